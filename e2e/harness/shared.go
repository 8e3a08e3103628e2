package harness

import (
	"errors"
	"fmt"
	"time"

	"github.com/posrefund/cloud/internal/redistest"
	"github.com/posrefund/cloud/proxy/server"
	"github.com/posrefund/cloud/proxy/state"
	redisstate "github.com/posrefund/cloud/proxy/state/redis"
)

// SharedPrefix is the key prefix of a Redis-backed stack's proxies.
const SharedPrefix = "e2e:"

// startShared starts the redis-server StackConfig.Redis asks for (Debian's, on a free loopback port, no
// persistence). Without redis-server the error names the command that installs it.
func (s *Stack) startShared() error {
	rs, err := redistest.New()
	if err != nil {
		return fmt.Errorf("harness: %w", err)
	}
	s.redis = rs
	return nil
}

// startInstances starts the extra proxies and the round-robin front StackConfig.Instances asks for.
func (s *Stack) startInstances() error {
	s.Proxies = []*Proxy{s.Proxy}
	if s.cfg.Instances <= 1 {
		return nil
	}
	for len(s.Proxies) < s.cfg.Instances {
		p, err := s.StartProxy("127.0.0.1:0")
		if err != nil {
			return err
		}
		s.Proxies = append(s.Proxies, p)
	}
	f, err := StartFront(s.Proxies...)
	if err != nil {
		return err
	}
	s.Front = f
	return nil
}

// openState is each proxy's Config.State on a Redis-backed stack, built with cfg's rules (nil otherwise:
// the proxy keeps its state in memory).
func (s *Stack) openState(cfg server.Config) (state.State, error) {
	if s.redis == nil {
		return nil, nil
	}
	set := cfg.StateSettings()
	set.Timeout = 2 * time.Second // a loaded test machine is not a Redis outage
	st, rdb, err := redisstate.Open(s.redis.URL(), SharedPrefix, set)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.clients = append(s.clients, rdb)
	s.mu.Unlock()
	return st, nil
}

// StopRedis kills the stack's redis-server (its data is gone: no persistence); StartRedis starts it again,
// empty, on the same port. PauseRedis and ResumeRedis freeze and thaw it (a hung Redis).
func (s *Stack) StopRedis() error {
	if s.redis == nil {
		return errors.New("harness: the stack has no Redis (StackConfig.Redis)")
	}
	s.redis.Stop()
	return nil
}

// StartRedis starts the stack's redis-server again after StopRedis.
func (s *Stack) StartRedis() error {
	if s.redis == nil {
		return errors.New("harness: the stack has no Redis (StackConfig.Redis)")
	}
	return s.redis.Start()
}

// closeShared stops the front, closes the Redis clients and stops Redis.
func (s *Stack) closeShared() {
	if s.Front != nil {
		s.Front.Close()
	}
	for _, p := range s.Proxies[min(1, len(s.Proxies)):] {
		p.Stop()
	}
	s.mu.Lock()
	clients := s.clients
	s.clients = nil
	s.mu.Unlock()
	for _, c := range clients {
		_ = c.Close()
	}
	if s.redis != nil {
		s.redis.Stop()
	}
}
