package state_test

import (
	"testing"

	"github.com/posrefund/cloud/proxy/state"
	"github.com/posrefund/cloud/proxy/state/statetest"
)

// The memory backend passes the suite every State passes (proxy/state/redis runs it on Redis).
func TestMemoryStore(t *testing.T) {
	statetest.Run(t, func(t *testing.T, set state.Settings) (state.State, state.State) {
		s := state.NewMemory(set)
		return s, s
	})
}
