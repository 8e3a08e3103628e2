package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/posrefund/cloud/proxy/server"
	"github.com/posrefund/cloud/proxy/state"
	redisstate "github.com/posrefund/cloud/proxy/state/redis"
)

// openState turns -state, -state-prefix and PROXY_REDIS_URL into cfg.State (left nil for memory: the server
// builds it) and the function that closes what it opened. The URL is read from the environment only (it may
// carry a password, and flags show in ps) and never repeated in an error or a log line. A Redis that does not
// answer at start is a warning, not a failure: the proxy fails closed (503 state-unavailable) until it answers.
func (o *options) openState(cfg *server.Config, getenv func(string) string, logger *slog.Logger) (func(), error) {
	url := getenv("PROXY_REDIS_URL")
	switch o.state {
	case "memory":
		if url != "" {
			return nil, errors.New("PROXY_REDIS_URL is set but -state is memory: give -state redis to share state through it")
		}
		return func() {}, nil
	case "redis":
	default:
		return nil, fmt.Errorf("-state %q: use memory or redis", o.state)
	}
	if url == "" {
		return nil, errors.New("-state redis needs PROXY_REDIS_URL (redis://[:password@]host:port/db or rediss://…)")
	}
	if o.statePrefix == "" {
		return nil, errors.New("-state-prefix must not be empty")
	}
	if o.stateTimeout <= 0 {
		return nil, errors.New("-state-timeout must be positive, e.g. 500ms")
	}
	set := cfg.StateSettings()
	set.Timeout = o.stateTimeout
	st, rdb, err := redisstate.Open(url, o.statePrefix, set)
	if err != nil {
		return nil, err
	}
	o.checkState(st, logger)
	cfg.State = st
	return func() { _ = rdb.Close() }, nil
}

// checkState logs whether the shared state answers at start.
func (o *options) checkState(st state.State, logger *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := st.Ping(ctx); err != nil {
		logger.Warn("shared state: Redis does not answer yet; API calls answer 503 state-unavailable until it does",
			"backend", "redis", "prefix", o.statePrefix, "error", err.Error())
		return
	}
	logger.Info("shared state", "backend", "redis", "prefix", o.statePrefix)
}
