package pending

import "sync"

// Storage is where the records live: the browser's localStorage in the page (so a record survives a
// reload), a map in tests. Keys and values are strings, as in localStorage. Every method may fail (quota,
// storage disabled).
type Storage interface {
	Get(key string) (value string, ok bool, err error)
	Set(key, value string) error
	Remove(key string) error
	Keys() ([]string, error)
}

// MemoryStorage is a Storage in memory: for tests, and for a browser where localStorage is unusable (a
// record then lasts as long as the page). The zero value is ready to use.
type MemoryStorage struct {
	mu sync.Mutex
	m  map[string]string
}

// Get returns the value under key.
func (s *MemoryStorage) Get(key string) (string, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[key]
	return v, ok, nil
}

// Set stores value under key.
func (s *MemoryStorage) Set(key, value string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]string{}
	}
	s.m[key] = value
	return nil
}

// Remove deletes key.
func (s *MemoryStorage) Remove(key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, key)
	return nil
}

// Keys returns every key, in no order.
func (s *MemoryStorage) Keys() ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := make([]string, 0, len(s.m))
	for k := range s.m {
		keys = append(keys, k)
	}
	return keys, nil
}
