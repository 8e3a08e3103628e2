package bench

import (
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

func TestParseInfoAddsCPUAndScriptCalls(t *testing.T) {
	info := "# CPU\r\nused_cpu_sys:1.500000\r\nused_cpu_user:0.250000\r\nused_cpu_sys_children:9.0\r\n" +
		"# Commandstats\r\ncmdstat_evalsha:calls=10,usec=400,usec_per_call=40.00,rejected_calls=0,failed_calls=0\r\n" +
		"cmdstat_eval:calls=2,usec=100,usec_per_call=50.00,rejected_calls=0,failed_calls=0\r\n" +
		"cmdstat_get:calls=7,usec=7,usec_per_call=1.00,rejected_calls=0,failed_calls=0\r\n"
	s, err := parseInfo(info)
	require.NoError(t, err)
	require.Equal(t, redisSnapshot{cpu: 1750 * time.Millisecond, calls: 12, usec: 500}, s,
		"CPU is user + system of the server itself; script calls are EVALSHA + EVAL, nothing else")

	_, err = parseInfo("used_cpu_user:lots\r\n")
	require.Error(t, err, "an unreadable figure must fail, not read as 0")
}

func TestScriptTimesMeanAndMedianPerNamedScript(t *testing.T) {
	logged := []goredis.SlowLog{
		{Duration: 20 * time.Microsecond, Args: []string{"evalsha", "aaa", "0"}},
		{Duration: 40 * time.Microsecond, Args: []string{"EVALSHA", "aaa", "0"}},
		{Duration: 9 * time.Microsecond, Args: []string{"evalsha", "bbb", "0"}},
		{Duration: 5 * time.Microsecond, Args: []string{"evalsha", "ccc", "0"}},
		{Duration: 900 * time.Microsecond, Args: []string{"info", "cpu"}},
	}
	got := scriptTimes(logged, map[string]string{"aaa": "reserve", "bbb": "lookup"})
	require.Equal(t, "lookup 9.00µs (median 9.00µs), other 5.00µs (median 5.00µs), reserve 30.0µs (median 20.0µs)", got)
	require.Equal(t, "no script calls logged", scriptTimes(nil, nil))
}
