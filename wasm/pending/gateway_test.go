//go:build !js

package pending_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"

	"github.com/posrefund/cloud/payroc"
)

// modelGateway is the page model's view of the proxy and Payroc behind it, as one payroc.Doer: one
// instruction per Idempotency-Key (a replay gets it back), statuses that only the device or a cancel end,
// a proxy that forgets which instructions it has seen when it restarts (its memory state: 404 until a replay
// of the submit files it again), answers lost before or after the gateway acted, and a bearer that expires.
// It answers in the caller's goroutine, so the model runs a whole refund in one step, deterministically.
type modelGateway struct {
	mu     sync.Mutex
	byKey  map[string]*gwInstruction
	byID   map[string]*gwInstruction
	order  []*gwInstruction
	known  map[string]bool // the proxy's memory: ids it can route a status read or cancel for
	lose   []string        // faults for the next submits: "before" (nothing done) or "after" (done, answer lost)
	unauth int             // the next requests answered 401 (the bearer expired)
	token  int             // the bearer generation the gateway accepts
	// onPoll runs (unlocked) when a status read finds its instruction in progress: the model's events
	// during a refund's watch (the device, a restart, another tab, the tab closing).
	onPoll func(id string)
}

type gwInstruction struct {
	id, key, order string
	status         payroc.Status
}

func newModelGateway() *modelGateway {
	return &modelGateway{byKey: map[string]*gwInstruction{}, byID: map[string]*gwInstruction{}, known: map[string]bool{}, token: 1}
}

// clone copies the gateway's state (no faults, no events): the invariants act on a copy.
func (g *modelGateway) clone() *modelGateway {
	g.mu.Lock()
	defer g.mu.Unlock()
	c := newModelGateway()
	for _, in := range g.order {
		cp := *in
		c.order = append(c.order, &cp)
		c.byKey[cp.key], c.byID[cp.id] = &cp, &cp
	}
	c.known, c.token = maps.Clone(g.known), g.token
	return c
}

func (g *modelGateway) instructions() []gwInstruction {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]gwInstruction, 0, len(g.order))
	for _, in := range g.order {
		out = append(out, *in)
	}
	return out
}

func (g *modelGateway) bearer() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return fmt.Sprintf("tok-%d", g.token)
}

var errLost = errors.New("connection reset by peer")

func (g *modelGateway) Do(ctx context.Context, req *payroc.Request) (*payroc.Response, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	_, path, _ := strings.Cut(req.URL, "/v1")
	g.mu.Lock()
	defer g.mu.Unlock()
	if req.Header.Get("authorization") != fmt.Sprintf("Bearer tok-%d", g.token) {
		return problem(401, "not-authorized", nil), nil
	}
	if g.unauth > 0 {
		g.unauth--
		g.token++
		return problem(401, "not-authorized", nil), nil
	}
	switch {
	case req.Method == "POST" && strings.HasSuffix(path, "/refund-instructions"):
		return g.submit(req)
	case req.Method == "GET" && strings.HasPrefix(path, "/refund-instructions/"):
		return g.status(ctx, strings.TrimPrefix(path, "/refund-instructions/"))
	case req.Method == "DELETE" && strings.HasPrefix(path, "/refund-instructions/"):
		return g.cancel(strings.TrimPrefix(path, "/refund-instructions/"))
	case req.Method == "GET" && strings.HasPrefix(path, "/refunds/"):
		id := strings.TrimPrefix(path, "/refunds/")
		return answer(200, fmt.Sprintf(`{"refundId":%q,"processingTerminalId":"1234001","order":{"orderId":"ORDER-1","amount":4999,"currency":"USD"},"card":{},"transactionResult":{"status":"ready","responseCode":"A"}}`, id)), nil
	}
	return problem(404, "not-found", nil), nil
}

func (g *modelGateway) submit(req *payroc.Request) (*payroc.Response, error) {
	fault := ""
	if len(g.lose) > 0 {
		fault, g.lose = g.lose[0], g.lose[1:]
	}
	if fault == "before" {
		return nil, errLost
	}
	key := strings.ToLower(req.Header.Get("idempotency-key"))
	in := g.byKey[key]
	if in == nil {
		var body payroc.RefundInstructionRequest
		_ = json.Unmarshal(req.Body, &body)
		in = &gwInstruction{id: fmt.Sprintf("inst%028d", len(g.order)+1), key: key, order: body.Order.OrderID,
			status: payroc.StatusInProgress}
		g.order = append(g.order, in)
		g.byKey[key], g.byID[in.id] = in, in
	}
	g.known[in.id] = true
	if fault == "after" {
		return nil, errLost
	}
	return answer(202, in.wire()), nil
}

func (g *modelGateway) status(ctx context.Context, id string) (*payroc.Response, error) {
	in := g.byID[id]
	if in != nil && g.known[id] && in.status == payroc.StatusInProgress && g.onPoll != nil {
		hook := g.onPoll
		g.onPoll = nil // events do not nest
		g.mu.Unlock()
		func() {
			defer func() { g.mu.Lock(); g.onPoll = hook }() // also when rapid ends the history from inside
			hook(id)
		}()
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	if in == nil || !g.known[id] {
		return problem(404, "not-found", nil), nil
	}
	return answer(200, in.wire()), nil
}

func (g *modelGateway) cancel(id string) (*payroc.Response, error) {
	in := g.byID[id]
	switch {
	case in == nil || !g.known[id]:
		return problem(404, "not-found", nil), nil
	case in.status == payroc.StatusInProgress:
		in.status = payroc.StatusCanceled
		return &payroc.Response{StatusCode: 204, Header: payroc.Header{}}, nil
	case in.status == payroc.StatusCompleted:
		return problem(409, "cannot-be-canceled", in.link()), nil
	}
	return problem(409, "cannot-be-canceled", nil), nil
}

// finish ends an instruction in progress as the device does.
func (g *modelGateway) finish(id string, st payroc.Status) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if in := g.byID[id]; in != nil && in.status == payroc.StatusInProgress {
		in.status = st
	}
}

func (in *gwInstruction) link() *payroc.Link {
	return &payroc.Link{Rel: "refund", Method: "get", Href: "http://gateway/v1/refunds/R" + in.id[len(in.id)-9:]}
}

func (in *gwInstruction) wire() string {
	v := payroc.RefundInstruction{RefundInstructionID: in.id, Status: in.status}
	if in.status == payroc.StatusCompleted {
		v.Link = in.link()
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func answer(status int, body string) *payroc.Response {
	return &payroc.Response{StatusCode: status, Header: payroc.Header{"content-type": "application/json"}, Body: []byte(body)}
}

func problem(status int, code string, link *payroc.Link) *payroc.Response {
	b, _ := json.Marshal(map[string]any{"type": "https://gateway/problems#" + code, "title": code, "status": status,
		"detail": code, "link": link})
	return &payroc.Response{StatusCode: status, Header: payroc.Header{"content-type": "application/problem+json"}, Body: b}
}

// modelStorage is the browser's localStorage shared by every tab, refusing the next writes on demand (quota).
type modelStorage struct {
	mu     sync.Mutex
	m      map[string]string
	refuse int
}

var errQuota = errors.New("QuotaExceededError")

func (s *modelStorage) Get(key string) (string, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[key]
	return v, ok, nil
}

func (s *modelStorage) Set(key, value string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refuse > 0 {
		s.refuse--
		return errQuota
	}
	s.m[key] = value
	return nil
}

func (s *modelStorage) Remove(key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refuse > 0 {
		s.refuse--
		return errQuota
	}
	delete(s.m, key)
	return nil
}

func (s *modelStorage) Keys() ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slicesKeys(s.m), nil
}

func (s *modelStorage) clone() *modelStorage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return &modelStorage{m: maps.Clone(s.m)}
}

func slicesKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
