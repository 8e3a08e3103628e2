package server_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/payroc/sim"
	"github.com/posrefund/cloud/proxy/server"
)

// serveTLS runs a second proxy, on TLS with HTTP/2, in front of h's simulator; it returns its address and a
// pool trusting its certificate.
func serveTLS(t *testing.T, h *harness) (addr string, pool *x509.CertPool) {
	t.Helper()
	certFile, keyFile, pool := selfSigned(t)
	p, err := server.New(h.cfg)
	require.NoError(t, err)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.ServeTLS(ctx, l, certFile, keyFile) }()
	t.Cleanup(func() {
		cancel()
		assert.NoError(t, <-done)
	})
	return l.Addr().String(), pool
}

// A page watching more refunds than HTTP/1.1 allows connections (six per host in browsers) holds every
// long-poll open at once over one HTTP/2 connection, and each gets its answer.
func TestHTTP2LongPollsShareOneConnection(t *testing.T) {
	const polls = 8
	h := newHarness(t, func(s *sim.Config, _ *server.Config) { s.Hold, s.Timeout = time.Minute, time.Hour })
	addr, pool := serveTLS(t, h)
	var dials atomic.Int32
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true,
		DialContext: func(ctx context.Context, network, a string) (net.Conn, error) {
			dials.Add(1)
			return (&net.Dialer{}).DialContext(ctx, network, a)
		}}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr}
	tok := h.token("front-1", 100000)
	pc := &payroc.Client{BaseURL: "https://" + addr + "/v1", Doer: payroc.HTTPDoer{Client: c}, Tokens: payroc.NewStaticToken(tok, nil)}
	inst, err := pc.Submit(t.Context(), mustRefund(t, "1850010868", &payroc.RefundInstructionRequest{ProcessingTerminalID: "1234001",
		Order: payroc.RefundOrder{OrderID: "ORDER-1001", Description: "Refund", Amount: 403, Currency: "USD"}}, ""))
	require.NoError(t, err) // amount 403 stays in progress until finished below
	results := make(chan pollResult, polls)
	for range polls {
		go func() {
			req, _ := http.NewRequest("GET", "https://"+addr+"/v1/refund-instructions/"+inst.RefundInstructionID, nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			res, err := c.Do(req)
			if err != nil {
				results <- pollResult{err: err}
				return
			}
			defer res.Body.Close()
			b, err := io.ReadAll(res.Body)
			results <- pollResult{status: res.StatusCode, body: res.Proto + " " + string(b), err: err}
		}()
	}
	if !assert.Eventually(t, func() bool { return h.heldPolls() == polls }, 10*time.Second, 5*time.Millisecond,
		"all %d long-polls held open at once", polls) {
		select { // an answer already in says why a poll is not held; waiting for one would wait out the hold
		case r := <-results:
			t.Fatalf("%d held, %d dials, first answer: %v", h.heldPolls(), dials.Load(), r)
		default:
			t.Fatalf("%d held, %d dials, no answer yet", h.heldPolls(), dials.Load())
		}
	}
	require.EqualValues(t, 1, dials.Load(), "the long-polls did not share one connection")
	require.NoError(t, h.sim.Finish(inst.RefundInstructionID, payroc.StatusCompleted))
	for range polls {
		r := <-results
		require.Nil(t, r.err, "long-poll: %v", r)
		require.Equal(t, http.StatusOK, r.status, "long-poll: %v", r)
		require.Contains(t, r.body, "HTTP/2.0 ", "long-poll: %v", r)
		require.Contains(t, r.body, `"completed"`, "long-poll: %v", r)
	}
}

// h2conn speaks raw HTTP/2 frames, for requests no well-behaved client sends.
type h2conn struct {
	t   *testing.T
	fr  *http2.Framer
	dec *hpack.Decoder
	id  uint32
}

func dialH2(t *testing.T, addr string, pool *x509.CertPool) *h2conn {
	t.Helper()
	c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, NextProtos: []string{"h2"}})
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	require.Equal(t, "h2", c.ConnectionState().NegotiatedProtocol)
	require.NoError(t, c.SetDeadline(time.Now().Add(30*time.Second)))
	_, err = io.WriteString(c, http2.ClientPreface)
	require.NoError(t, err)
	fr := http2.NewFramer(c, c)
	require.NoError(t, fr.WriteSettings())
	return &h2conn{t: t, fr: fr, dec: hpack.NewDecoder(4096, nil), id: 1}
}

// send opens a stream with the header fields given (pseudo-headers first) and the body as DATA, and returns
// the stream's fate: its :status, or "RST_STREAM <code>".
func (c *h2conn) send(fields [][2]string, body []byte) string {
	c.t.Helper()
	var hb bytes.Buffer
	enc := hpack.NewEncoder(&hb)
	for _, f := range fields {
		require.NoError(c.t, enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]}))
	}
	id := c.id
	c.id += 2
	require.NoError(c.t, c.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: hb.Bytes(),
		EndHeaders: true, EndStream: body == nil}))
	if body != nil {
		require.NoError(c.t, c.fr.WriteData(id, true, body))
	}
	return c.fate(id)
}

func (c *h2conn) fate(id uint32) string {
	c.t.Helper()
	for {
		f, err := c.fr.ReadFrame()
		require.NoError(c.t, err, "no answer on stream %d", id)
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				require.NoError(c.t, c.fr.WriteSettingsAck())
			}
		case *http2.RSTStreamFrame:
			if f.StreamID == id {
				return "RST_STREAM " + f.ErrCode.String()
			}
		case *http2.GoAwayFrame:
			return "GOAWAY " + f.ErrCode.String()
		case *http2.HeadersFrame:
			fields, err := c.dec.DecodeFull(f.HeaderBlockFragment())
			require.NoError(c.t, err)
			for _, hf := range fields {
				if hf.Name == ":status" && f.StreamID == id {
					return hf.Value
				}
			}
		}
	}
}

// The smuggling probes over HTTP/2: a content-length that disagrees with the DATA frames, and a
// transfer-encoding (which HTTP/2 forbids). Each is refused, nothing reaches Payroc, and the connection
// still serves an honest request.
func TestHTTP2SmugglingProbesAreRefused(t *testing.T) {
	h := newHarness(t)
	addr, pool := serveTLS(t, h)
	tok := h.token("front-1", 100000)
	body := refundBody("1850010868", 4999)
	submit := func(extra ...[2]string) [][2]string {
		f := [][2]string{{":method", "POST"}, {":scheme", "https"}, {":authority", addr},
			{":path", "/v1/devices/1850010868/refund-instructions"}, {"authorization", "Bearer " + tok},
			{"content-type", "application/json"}, {"idempotency-key", payroc.NewIdempotencyKey()}}
		return append(f, extra...)
	}
	c := dialH2(t, addr, pool)
	for _, tc := range []struct {
		name   string
		fields [][2]string
		body   []byte
	}{
		{"content-length above the DATA sent", submit([2]string{"content-length", strconv.Itoa(len(body) + 100)}), body},
		{"content-length below the DATA sent", submit([2]string{"content-length", "10"}), body},
		{"a transfer-encoding header", submit([2]string{"transfer-encoding", "chunked"}), body},
		{"content-length and transfer-encoding", submit([2]string{"content-length", strconv.Itoa(len(body))}, [2]string{"transfer-encoding", "chunked"}), body},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fate := c.send(tc.fields, tc.body)
			refused := fate == "400" || fate == "RST_STREAM PROTOCOL_ERROR"
			require.True(t, refused, "the probe was answered %s", fate)
		})
	}
	require.Zero(t, h.sim.Stats().Requests[sim.RouteSubmit], "a probe reached Payroc")
	fate := c.send([][2]string{{":method", "GET"}, {":scheme", "https"}, {":authority", addr}, {":path", "/healthz"}}, nil)
	require.Equal(t, "200", fate, "the connection no longer serves")
}
