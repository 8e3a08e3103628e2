package redistest

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Info is what INFO says of a redis-server at one moment: its CPU time (user + system, not its children's)
// and its script calls (EVALSHA and EVAL) with the time spent in them (commandstats usec). The bench's P7
// and proxy/state/redis's BenchmarkRefundCycle both weigh a script change by it, so they read INFO alike.
type Info struct {
	CPU         time.Duration
	ScriptCalls int64
	ScriptUsec  int64
}

// Sub is what the server spent between o and s.
func (s Info) Sub(o Info) Info {
	return Info{CPU: s.CPU - o.CPU, ScriptCalls: s.ScriptCalls - o.ScriptCalls, ScriptUsec: s.ScriptUsec - o.ScriptUsec}
}

// Add is s and o together.
func (s Info) Add(o Info) Info {
	return Info{CPU: s.CPU + o.CPU, ScriptCalls: s.ScriptCalls + o.ScriptCalls, ScriptUsec: s.ScriptUsec + o.ScriptUsec}
}

// ParseInfo reads the reply to INFO cpu commandstats. A figure it cannot read is an error, not 0: a 0 would
// pass for a script change that made Redis free.
func ParseInfo(info string) (Info, error) {
	var s Info
	var cpu float64
	for line := range strings.Lines(info) {
		name, v, _ := strings.Cut(strings.TrimSpace(line), ":")
		switch name {
		case "used_cpu_user", "used_cpu_sys":
			secs, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return s, fmt.Errorf("INFO cpu %s: %w", name, err)
			}
			cpu += secs
		case "cmdstat_evalsha", "cmdstat_eval":
			if err := s.addScripts(name, v); err != nil {
				return s, err
			}
		}
	}
	s.CPU = time.Duration(cpu * float64(time.Second))
	return s, nil
}

// addScripts adds the calls and usec of one commandstats line's value ("calls=10,usec=400,…") to s.
func (s *Info) addScripts(name, v string) error {
	for field := range strings.SplitSeq(v, ",") {
		k, n, _ := strings.Cut(field, "=")
		if k != "calls" && k != "usec" {
			continue
		}
		x, err := strconv.ParseInt(n, 10, 64)
		if err != nil {
			return fmt.Errorf("INFO commandstats %s %s: %w", name, k, err)
		}
		if k == "calls" {
			s.ScriptCalls += x
		} else {
			s.ScriptUsec += x
		}
	}
	return nil
}
