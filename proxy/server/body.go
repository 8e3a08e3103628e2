package server

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/posrefund/cloud/payroc"
)

// limitBodyTime gives a request with a body Config.BodyTimeout to send all of it: the connection's read
// deadline is set before any handler runs. readBody clears it once the whole body has been read (a long-poll
// must not be cut by it); on any other path it stays, so net/http's own read of an unread body after the
// handler (to reuse the connection) also ends by then, and the connection is closed instead of waiting on a
// client that trickles its body.
func (s *Server) limitBodyTime(w http.ResponseWriter, r *http.Request) {
	if r.Body == nil || r.Body == http.NoBody {
		return
	}
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(s.cfg.BodyTimeout))
}

// readBody reads r's whole body within Config.MaxBodyBytes and the body deadline (limitBodyTime). On failure it
// returns the problem to answer (413 payload-too-large, 408 request-timeout, or 400) and marks the answer
// Connection: close: what is left of the body on the wire must never be read as another request.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, *payroc.Error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil // nothing to read (a GET, usually): no deadline was set
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	if err == nil {
		_ = http.NewResponseController(w).SetReadDeadline(time.Time{})
		return body, nil
	}
	if r.ProtoMajor == 1 {
		w.Header().Set("Connection", "close")
	}
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return nil, problem(payroc.CodeRequestTimeout, fmt.Sprintf("The body did not arrive within %s", s.cfg.BodyTimeout))
	case isMaxBytes(err):
		return nil, problem(payroc.CodePayloadTooLarge, fmt.Sprintf("The body is over %d bytes", s.cfg.MaxBodyBytes))
	}
	return nil, badRequest("The request body could not be read")
}

func isMaxBytes(err error) bool {
	_, ok := errors.AsType[*http.MaxBytesError](err)
	return ok
}
