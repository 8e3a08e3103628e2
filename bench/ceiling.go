package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httputil"
	"strings"

	goredis "github.com/redis/go-redis/v9"

	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/proxy/state"
	redisstate "github.com/posrefund/cloud/proxy/state/redis"
)

// noopScript is the ceiling's state call: a Lua script that touches no key.
var noopScript = goredis.NewScript("return 0")

// ceiling is P7's second baseline: the bare ReverseProxy plus the Redis round trips the proxy's store rules
// require, each doing nothing: a no-op script before each request (the admission and guard check), after each
// submit (settling it) and after each final status (observing it), each through go-redis with the proxy's own
// client settings (redisstate.Open) and call timeout, each finished before the answer is passed on.
type ceiling struct {
	rp  *httputil.ReverseProxy
	rdb *goredis.Client
}

func ceilingProxy(upstream, redisURL string) (*ceiling, error) {
	_, rdb, err := redisstate.Open(redisURL, "ceiling:", state.Settings{})
	if err != nil {
		return nil, err
	}
	c := &ceiling{rp: bareProxy(upstream).(*httputil.ReverseProxy), rdb: rdb}
	c.rp.ModifyResponse = c.after
	return c, nil
}

func (c *ceiling) close() { _ = c.rdb.Close() }

func (c *ceiling) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := c.noop(r.Context()); err != nil {
		http.Error(w, "state unavailable", http.StatusServiceUnavailable)
		return
	}
	c.rp.ServeHTTP(w, r)
}

// after runs the no-op after a submit and after a status GET whose answer is final (read from the body, as
// the proxy reads it).
func (c *ceiling) after(res *http.Response) error {
	r := res.Request
	switch {
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/refund-instructions"):
		return c.noop(r.Context())
	case r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/refund-instructions/"):
		body, err := io.ReadAll(res.Body)
		_ = res.Body.Close()
		if err != nil {
			return err
		}
		res.Body = io.NopCloser(bytes.NewReader(body))
		var inst payroc.RefundInstruction
		if json.Unmarshal(body, &inst) == nil && inst.Status.Final() {
			return c.noop(r.Context())
		}
	}
	return nil
}

func (c *ceiling) noop(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, redisstate.DefaultTimeout)
	defer cancel()
	return noopScript.Run(ctx, c.rdb, nil).Err()
}
