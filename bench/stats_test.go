package bench

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestQuantileNearestRank(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	tests := []struct {
		name string
		in   []time.Duration
		q    float64
		want time.Duration
	}{
		{"empty", nil, 0.5, 0},
		{"one", ms(7), 0.99, 7 * time.Millisecond},
		{"median of odd", ms(5, 1, 3), 0.5, 3 * time.Millisecond},
		{"median of even takes the lower", ms(4, 1, 3, 2), 0.5, 2 * time.Millisecond},
		{"p99 of 100 is the 99th", ms(seq(100)...), 0.99, 99 * time.Millisecond},
		{"p100 is the max", ms(seq(10)...), 1, 10 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := append([]time.Duration(nil), tc.in...)
			got := quantile(tc.in, tc.q)
			require.Equal(t, tc.want, got)
			for i := range before {
				require.Equal(t, tc.in[i], before[i], "quantile sorted its input in place")
			}
		})
	}
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i + 1
	}
	return out
}

func TestFormattersReadable(t *testing.T) {
	tests := []struct {
		name, got, want string
	}{
		{"µs", fmtDur(812 * time.Microsecond), "812µs"},
		{"ms", fmtDur(12345 * time.Microsecond), "12.3ms"},
		{"s", fmtDur(1234 * time.Millisecond), "1.23s"},
		{"ns", fmtDur(15), "15ns"},
		{"ratio", fmtRatio(1.0449), "1.04x"},
		{"ratio of nothing", fmtRatio(ratio(1, 0)), "n/a"},
		{"bytes", fmtBytes(1229590), "1,229,590 B"},
		{"small int", fmtInt(999), "999"},
		{"negative int", fmtInt(-1234567), "-1,234,567"},
		{"KiB", fmtKiB(21.3 * 1024), "21.3 KiB"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, tc.got)
		})
	}
	require.True(t, math.IsNaN(ratio(3, 0)), "ratio by zero should be NaN")
}
