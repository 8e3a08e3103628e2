package server_test

import (
	"testing"

	"github.com/posrefund/cloud/proxy/server"
	"github.com/posrefund/cloud/proxy/server/storetest"
)

// The memory backend passes the suite every Store passes (proxy/redisstate runs it on Redis).
func TestMemoryStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T, set server.StoreSettings) (server.Store, server.Store) {
		s := server.NewMemoryStore(set)
		return s, s
	})
}
