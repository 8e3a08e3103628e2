package redistest_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/internal/redistest"
)

func TestParseInfoAddsCPUAndScriptCalls(t *testing.T) {
	info := "# CPU\r\nused_cpu_sys:1.500000\r\nused_cpu_user:0.250000\r\nused_cpu_sys_children:9.0\r\n" +
		"# Commandstats\r\ncmdstat_evalsha:calls=10,usec=400,usec_per_call=40.00,rejected_calls=0,failed_calls=0\r\n" +
		"cmdstat_eval:calls=2,usec=100,usec_per_call=50.00,rejected_calls=0,failed_calls=0\r\n" +
		"cmdstat_get:calls=7,usec=7,usec_per_call=1.00,rejected_calls=0,failed_calls=0\r\n"
	s, err := redistest.ParseInfo(info)
	require.NoError(t, err)
	require.Equal(t, redistest.Info{CPU: 1750 * time.Millisecond, ScriptCalls: 12, ScriptUsec: 500}, s,
		"CPU is user + system of the server itself; script calls are EVALSHA + EVAL, nothing else")
	require.Equal(t, redistest.Info{CPU: 750 * time.Millisecond, ScriptCalls: 2, ScriptUsec: 100},
		s.Sub(redistest.Info{CPU: time.Second, ScriptCalls: 10, ScriptUsec: 400}))
	require.Equal(t, s, s.Sub(redistest.Info{CPU: time.Second, ScriptCalls: 10, ScriptUsec: 400}).
		Add(redistest.Info{CPU: time.Second, ScriptCalls: 10, ScriptUsec: 400}))
}

// TestParseInfoFailsOnUnreadableFigures: a figure read as 0 would pass for a script change that made Redis free.
func TestParseInfoFailsOnUnreadableFigures(t *testing.T) {
	for _, info := range []string{
		"used_cpu_user:lots\r\n",
		"used_cpu_sys:\r\n",
		"cmdstat_evalsha:calls=ten,usec=400\r\n",
		"cmdstat_eval:calls=2,usec=1.5\r\n",
	} {
		_, err := redistest.ParseInfo(info)
		require.Error(t, err, "%q", info)
	}
}
