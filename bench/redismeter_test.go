package bench

import (
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

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
