package harness

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
)

// secretsSeen wraps the simulator's handler and remembers every Payroc bearer token identity issued and every
// bearer a caller (the proxy) presented, so a test can look for them where they must never be: in the
// browser's traffic, DOM and storage.
type secretsSeen struct {
	next http.Handler

	mu      sync.Mutex
	bearers map[string]bool
}

func (s *secretsSeen) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h := r.Header.Get("Authorization"); h != "" {
		if scheme, tok, ok := strings.Cut(h, " "); ok && strings.EqualFold(scheme, "Bearer") && tok != "" {
			s.add(strings.TrimSpace(tok))
		}
	}
	path := strings.TrimSuffix(r.URL.Path, "/")
	if r.Method != http.MethodPost || (path != "/authorize" && path != "/v1/authorize") {
		s.next.ServeHTTP(w, r)
		return
	}
	tee := &teeWriter{ResponseWriter: w}
	s.next.ServeHTTP(tee, r)
	var body struct {
		AccessToken string `json:"access_token"`
	}
	if json.Unmarshal(tee.buf.Bytes(), &body) == nil && body.AccessToken != "" {
		s.add(body.AccessToken)
	}
}

func (s *secretsSeen) add(tok string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bearers == nil {
		s.bearers = map[string]bool{}
	}
	s.bearers[tok] = true
}

func (s *secretsSeen) list() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.bearers))
	for t := range s.bearers {
		out = append(out, t)
	}
	return out
}

// teeWriter keeps a copy of a small response (identity's token answer) as it is written.
type teeWriter struct {
	http.ResponseWriter
	buf bytes.Buffer
}

func (t *teeWriter) Write(p []byte) (int, error) {
	if t.buf.Len() < 64<<10 {
		t.buf.Write(p)
	}
	return t.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the real writer (the simulator's drop control hijacks it).
func (t *teeWriter) Unwrap() http.ResponseWriter { return t.ResponseWriter }
