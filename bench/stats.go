package bench

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// quantile returns the nearest-rank q-quantile (0 < q ≤ 1) of ds, or 0 for none. ds is not modified.
func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// median is quantile(ds, 0.5).
func median(ds []time.Duration) time.Duration { return quantile(ds, 0.5) }

// ratio is a/b, or NaN when b is zero (printed as "n/a").
func ratio[T ~int64 | ~float64 | ~int](a, b T) float64 {
	if b == 0 {
		return math.NaN()
	}
	return float64(a) / float64(b)
}

// fmtRatio prints a ratio as "1.04x".
func fmtRatio(r float64) string {
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return "n/a"
	}
	return fmt.Sprintf("%.2fx", r)
}

// fmtDur prints a duration with three significant digits in a unit people read at a glance: 812µs, 12.3ms,
// 1.23s.
func fmtDur(d time.Duration) string {
	switch {
	case d < 0:
		return "-" + fmtDur(-d)
	case d < time.Microsecond:
		return fmt.Sprintf("%dns", d.Nanoseconds())
	case d < time.Millisecond:
		return sig3(float64(d)/float64(time.Microsecond)) + "µs"
	case d < time.Second:
		return sig3(float64(d)/float64(time.Millisecond)) + "ms"
	default:
		return sig3(d.Seconds()) + "s"
	}
}

func sig3(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

// fmtBytes prints a byte count with thousands separators: 1,229,590 B.
func fmtBytes(n int64) string { return fmtInt(n) + " B" }

// fmtKiB prints a (possibly fractional) size in KiB: 21.3 KiB.
func fmtKiB(n float64) string { return sig3(n/1024) + " KiB" }

// fmtInt prints n with thousands separators.
func fmtInt(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// figure prints one figure line of `make bench` on stdout: "P3 proxy cost: …". The line is the benchmark's
// result; go test's own lines around it are filtered out by the Makefile.
func figure(label, format string, args ...any) {
	fmt.Printf("%s: %s\n", label, fmt.Sprintf(format, args...))
}

// verdict says whether a figure meets its target, for the end of a figure line.
func verdict(ok bool) string {
	if ok {
		return "meets target"
	}
	return "MISSES target"
}
