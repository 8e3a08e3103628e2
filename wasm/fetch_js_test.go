package main

import (
	"context"
	"errors"
	"syscall/js"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/payroc"
)

// nodeServer starts a real HTTP server in the Node process that runs these tests (js/wasm Go cannot
// listen, but the JavaScript around it can), so the fetch transport is tested over a real connection.
// Routes: /echo answers with what it got; /headers-then-hold sends headers and part of the body, then
// waits; /never (and every path below /never/) never answers; /big announces a body over the limit. closed() counts connections the
// client dropped before the answer ended.
type nodeServer struct {
	base string
	v    js.Value
}

func startNodeServer(t *testing.T) *nodeServer {
	t.Helper()
	start := jsFunc("", `
		const http = require("http");
		const state = { dropped: 0, requests: 0 };
		const srv = http.createServer((req, res) => {
			state.requests++;
			const chunks = [];
			req.on("data", c => chunks.push(c));
			req.on("end", () => {
				res.on("close", () => { if (!res.writableFinished) state.dropped++; });
				if (req.url.startsWith("/never/")) return; // any path below /never/ never answers either
				switch (req.url) {
				case "/echo": {
					const body = JSON.stringify({ method: req.method, headers: req.headers, body: Buffer.concat(chunks).toString() });
					res.writeHead(201, { "content-type": "application/json", "retry-after": "3", "x-multi": "a" });
					res.end(body);
					break;
				}
				case "/headers-then-hold":
					res.writeHead(200, { "content-type": "application/json" });
					res.write("{\"partial\":");
					break;
				case "/never":
					break;
				case "/big":
					res.writeHead(200, { "content-length": String(2 * 1024 * 1024) });
					res.write("x");
					break;
				default:
					res.writeHead(404); res.end();
				}
			});
		});
		return new Promise(resolve => srv.listen(0, "127.0.0.1", () =>
			resolve({ port: srv.address().port, state, close: () => { srv.closeAllConnections(); srv.close(); } })));`)
	v, rej := settle(t, start.Invoke())
	require.False(t, rej, "server did not start: %s", jsonOf(v))
	s := &nodeServer{base: "http://127.0.0.1:" + js.Global().Call("String", v.Get("port")).String(), v: v}
	t.Cleanup(func() { v.Call("close") })
	return s
}

func (s *nodeServer) dropped() int { return s.v.Get("state").Get("dropped").Int() }

func TestFetchDoerSendsAndReadsAnExchange(t *testing.T) {
	s := startNodeServer(t)
	res, err := fetchDoer{}.Do(context.Background(), &payroc.Request{Method: "POST", URL: s.base + "/echo",
		Header: payroc.Header{"idempotency-key": "k1", "authorization": "Bearer lane", "content-type": "application/json"},
		Body:   []byte(`{"a":1}`)})
	require.NoError(t, err)
	body := string(res.Body)
	require.EqualValues(t, 201, res.StatusCode)
	require.Equal(t, "3", res.Header.Get("Retry-After"))
	require.Equal(t, "application/json", res.Header.Get("content-type"))
	for _, want := range []string{`"method":"POST"`, `"idempotency-key":"k1"`, `"authorization":"Bearer lane"`, `"body":"{\"a\":1}"`} {
		require.Contains(t, body, want)
	}
}

func TestFetchDoerNoAnswerIsANetworkError(t *testing.T) {
	c := &payroc.Client{BaseURL: "http://127.0.0.1:1/v1", Doer: fetchDoer{}, Retry: payroc.RetryPolicy{MaxAttempts: 1}}
	_, err := c.Refund(context.Background(), "CD3HN88U9F")
	var e *payroc.Error
	require.True(t, errors.As(err, &e))
	require.Equal(t, payroc.CodeNetworkError, e.Code)
	require.True(t, e.Retryable())
}

func TestFetchDoerContextEndsTheRequest(t *testing.T) {
	tests := []struct {
		name string
		path string
	}{
		{"before the headers", "/never"},
		{"after the headers, during the body", "/headers-then-hold"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startNodeServer(t)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() {
				_, err := fetchDoer{}.Do(ctx, &payroc.Request{Method: "GET", URL: s.base + tt.path, Header: payroc.Header{}})
				done <- err
			}()
			require.Eventually(t, func() bool { return s.v.Get("state").Get("requests").Int() == 1 }, 5*time.Second, 5*time.Millisecond, "the request to arrive")
			cancel()
			select {
			case err := <-done:
				require.ErrorIs(t, err, context.Canceled)
			case <-time.After(5 * time.Second):
				t.Fatal("Do did not return after the context ended")
			}
			require.Eventually(t, func() bool { return s.dropped() == 1 }, 5*time.Second, 5*time.Millisecond, "the connection to be dropped")
		})
	}
}

func TestFetchDoerRefusesAnOversizedBody(t *testing.T) {
	s := startNodeServer(t)
	_, err := fetchDoer{}.Do(context.Background(), &payroc.Request{Method: "GET", URL: s.base + "/big", Header: payroc.Header{}})
	require.Error(t, err)
	require.Contains(t, err.Error(), "over")
	require.Eventually(t, func() bool { return s.dropped() == 1 }, 5*time.Second, 5*time.Millisecond, "the connection to be dropped")
}

func TestFetchDoerBoundsACallThatGetsNoAnswer(t *testing.T) {
	s := startNodeServer(t)
	d := fetchDoer{CallTimeout: 100 * time.Millisecond}
	c := &payroc.Client{BaseURL: s.base + "/never/v1", Doer: d,
		Retry: payroc.RetryPolicy{MaxAttempts: 2, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}}
	_, err := c.Submit(context.Background(), mustRefund(t, ""))
	var e *payroc.Error
	require.True(t, errors.As(err, &e))
	require.Equal(t, payroc.CodeNetworkError, e.Code)
	require.ErrorIs(t, err, errCallTimeout)
	require.Eventually(t, func() bool { return s.dropped() == 2 }, 5*time.Second, 5*time.Millisecond, "both attempts to be dropped")

	// A status long-poll is held by the server on purpose: only the caller's own deadline ends it.
	ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
	defer cancel()
	_, err = d.Do(ctx, &payroc.Request{Method: "GET", URL: s.base + "/never/v1/refund-instructions/a37439165d134678a9100ebba3b29597", Header: payroc.Header{}})
	require.ErrorIs(t, err, context.DeadlineExceeded)
}
