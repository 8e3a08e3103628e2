package sim

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// ErrDropped is what a round trip through Transport returns when DropNext dropped its answer.
var ErrDropped = errors.New("sim: connection dropped by the simulator (DropNext)")

// Transport returns an http.RoundTripper that serves requests in-process, with no listener: for a proxy or a
// test that wants the simulator as its upstream without a port. The request's context works as over a
// network (a long-poll ends when it is canceled), and a dropped answer is an ErrDropped error. Links in the
// answers name the request URL's host.
func (s *Simulator) Transport() http.RoundTripper { return transport{s} }

type transport struct{ s *Simulator }

func (t transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	in := req.Clone(ctx)
	if req.Body == nil {
		in.Body = http.NoBody
	} else {
		defer req.Body.Close()
	}
	if in.Host == "" {
		in.Host = req.URL.Host
	}
	in.RequestURI = req.URL.RequestURI()
	in.RemoteAddr = "in-process"
	in.Proto, in.ProtoMajor, in.ProtoMinor = "HTTP/1.1", 1, 1
	w := &bufferWriter{header: http.Header{}}
	t.s.ServeHTTP(w, in)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if w.dropped {
		return nil, ErrDropped
	}
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return &http.Response{
		Status:        strconv.Itoa(w.status) + " " + http.StatusText(w.status),
		StatusCode:    w.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        w.header,
		Body:          io.NopCloser(bytes.NewReader(w.body.Bytes())),
		ContentLength: int64(w.body.Len()),
		Request:       req,
	}, nil
}

// bufferWriter holds an answer in memory: for Transport, and for an answer that DropNext throws away.
type bufferWriter struct {
	header  http.Header
	status  int
	body    bytes.Buffer
	dropped bool
}

func (w *bufferWriter) Header() http.Header { return w.header }

func (w *bufferWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *bufferWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.body.Write(b)
}

// dropConnection ends a request without an answer: Transport's writer is marked; an HTTP/1 connection is
// hijacked and closed; anything else (HTTP/2) is aborted the way net/http provides, which resets the stream.
func dropConnection(w http.ResponseWriter, r *http.Request) {
	if bw, ok := w.(*bufferWriter); ok {
		bw.dropped = true
		return
	}
	if r.ProtoMajor < 2 {
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

func lower(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
