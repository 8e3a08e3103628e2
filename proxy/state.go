package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/posrefund/cloud/proxy/redisstate"
	"github.com/posrefund/cloud/proxy/server"
)

// stateOpener turns -state, -state-prefix and PROXY_REDIS_URL into server.Config.OpenState (nil for memory)
// and the function that closes what it opened. The URL is read from the environment only (it may carry a
// password, and flags show in ps) and never repeated in an error or a log line. A Redis that does not answer
// at start is a warning, not a failure: the proxy fails closed (503 state-unavailable) until it answers.
func (o *options) stateOpener(getenv func(string) string, logger *slog.Logger) (func(server.StoreSettings) (server.Store, error), func(), error) {
	url := getenv("PROXY_REDIS_URL")
	switch o.state {
	case "memory":
		if url != "" {
			return nil, nil, errors.New("PROXY_REDIS_URL is set but -state is memory: give -state redis to share state through it")
		}
		return nil, func() {}, nil
	case "redis":
	default:
		return nil, nil, fmt.Errorf("-state %q: use memory or redis", o.state)
	}
	if url == "" {
		return nil, nil, errors.New("-state redis needs PROXY_REDIS_URL (redis://[:password@]host:port/db or rediss://…)")
	}
	if o.statePrefix == "" {
		return nil, nil, errors.New("-state-prefix must not be empty")
	}
	if o.stateTimeout <= 0 {
		return nil, nil, errors.New("-state-timeout must be positive, e.g. 500ms")
	}
	var closeFn func()
	open := func(set server.StoreSettings) (server.Store, error) {
		set.Timeout = o.stateTimeout
		st, rdb, err := redisstate.Open(url, o.statePrefix, set)
		if err != nil {
			return nil, err
		}
		closeFn = func() { _ = rdb.Close() }
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := st.Ping(ctx); err != nil {
			logger.Warn("shared state: Redis does not answer yet; API calls answer 503 state-unavailable until it does",
				"backend", "redis", "prefix", o.statePrefix, "error", err.Error())
		} else {
			logger.Info("shared state", "backend", "redis", "prefix", o.statePrefix)
		}
		return st, nil
	}
	return open, func() {
		if closeFn != nil {
			closeFn()
		}
	}, nil
}
