package server_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/payroc/sim"
	"github.com/posrefund/cloud/proxy/server"
)

// rawConn is a TCP client that writes bytes as given, for requests no well-behaved client would send.
type rawConn struct {
	t testing.TB
	net.Conn
	br *bufio.Reader
}

func (h *harness) dialRaw() *rawConn {
	h.t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(h.url, "http://"))
	require.NoError(h.t, err)
	h.t.Cleanup(func() { c.Close() })
	return &rawConn{t: h.t, Conn: c, br: bufio.NewReader(c)}
}

func (c *rawConn) send(s string) {
	c.t.Helper()
	_, err := io.WriteString(c.Conn, strings.ReplaceAll(s, "\n", "\r\n"))
	require.NoError(c.t, err)
}

// response reads one answer, waiting at most wait.
func (c *rawConn) response(wait time.Duration) (*http.Response, string) {
	c.t.Helper()
	require.NoError(c.t, c.SetReadDeadline(time.Now().Add(wait)))
	res, err := http.ReadResponse(c.br, nil)
	require.NoError(c.t, err, "no answer within %s", wait)
	b, err := io.ReadAll(res.Body)
	require.NoError(c.t, err)
	res.Body.Close()
	return res, string(b)
}

// closed reports whether the server closed the connection within wait (rather than waiting for more).
func (c *rawConn) closed(wait time.Duration) bool {
	c.t.Helper()
	require.NoError(c.t, c.SetReadDeadline(time.Now().Add(wait)))
	_, err := c.br.ReadByte()
	return err == io.EOF
}

func withBodyTimeout(d time.Duration) option {
	return func(_ *sim.Config, cfg *server.Config) { cfg.BodyTimeout = d }
}

// A body that never arrives in full is answered 408 once the body timeout is over, and its connection is
// closed; the probe never got its answer, and the connection stayed open with no deadline.
func TestSlowBodyIsAnsweredAndClosed(t *testing.T) {
	const bodyTimeout = time.Second
	h := newHarness(t, withBodyTimeout(bodyTimeout))
	tok := h.token("front-1", 100000)
	for _, tc := range []struct {
		name, method, path string
		trickle            bool
		status             int
	}{
		{"a submit whose body stops short", "POST", "/v1/devices/1850010868/refund-instructions", false, http.StatusRequestTimeout},
		{"a submit whose body trickles", "POST", "/v1/devices/1850010868/refund-instructions", true, http.StatusRequestTimeout},
		{"a status poll with a body that stops short", "GET", "/v1/refund-instructions/abc", false, http.StatusRequestTimeout},
		{"a route that never reads its body", "GET", "/healthz", true, http.StatusOK},
		{"a static file that never reads its body", "GET", "/", false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := h.dialRaw()
			c.send(fmt.Sprintf("%s %s HTTP/1.1\nHost: x\nAuthorization: Bearer %s\nContent-Type: application/json\n"+
				"Idempotency-Key: 3f1b2c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d\nContent-Length: 1000\n\n{\"order\":", tc.method, tc.path, tok))
			if tc.trickle {
				go trickle(c.Conn)
			}
			start := time.Now()
			res, body := c.response(bodyTimeout + 10*time.Second)
			took := time.Since(start)
			if tc.status != 0 {
				require.Equal(t, tc.status, res.StatusCode, "answer: %s", body)
			}
			if tc.status == http.StatusRequestTimeout {
				problemOf(t, res, []byte(body), http.StatusRequestTimeout, "request-timeout")
				require.True(t, res.Close, "a 408 must announce Connection: close")
			}
			require.GreaterOrEqual(t, took, bodyTimeout-100*time.Millisecond, "answered before the body timeout: %s", body)
			require.True(t, c.closed(10*time.Second), "the connection stayed open after the answer")
		})
	}
}

// trickle writes one byte of body every 50 ms until the connection fails: each byte must not extend the
// body's deadline.
func trickle(c net.Conn) {
	for {
		if _, err := c.Write([]byte(" ")); err != nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}
