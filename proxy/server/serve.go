package server

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// HTTPServer returns an http.Server set up for the proxy: header and write timeouts (long-polls extend their
// own), bounded headers, and request contexts that the shutdown grace can end. Serve uses it; use it directly
// only to run the proxy your own way.
func (s *Server) HTTPServer() *http.Server {
	return &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		WriteTimeout:      s.cfg.WriteTimeout,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    128 << 10,
		TLSConfig:         &tls.Config{MinVersion: tls.VersionTLS12},
		BaseContext:       func(net.Listener) context.Context { return s.baseCtx },
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
}

// ListenAndServe listens on Config.Addr and serves (HTTPS with HTTP/2 when TLSCertFile and TLSKeyFile are
// set) until ctx ends, then shuts down gracefully as Serve does.
func (s *Server) ListenAndServe(ctx context.Context) error {
	l, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return err
	}
	if s.cfg.TLSCertFile != "" {
		return s.ServeTLS(ctx, l, s.cfg.TLSCertFile, s.cfg.TLSKeyFile)
	}
	return s.Serve(ctx, l)
}

// Serve answers HTTP on l until ctx ends, then leaves gracefully over Config.ShutdownGrace: /readyz turns
// not-ready at once, open status long-polls are answered within a second with the current status (the page
// polls again, through another instance behind a load balancer), and new requests are still answered, each
// on a connection that then closes. When the grace is over it stops accepting, ends what is still open (a
// long-poll answers a retryable 504 upstream-timeout), lets answers in flight finish for a few seconds more,
// and closes. It returns nil after a clean shutdown. A Server serves once.
func (s *Server) Serve(ctx context.Context, l net.Listener) error { return s.serve(ctx, l, "", "") }

// ServeTLS is Serve over TLS with HTTP/2 (a page with many long-polls needs HTTP/2: browsers allow six
// HTTP/1.1 connections per host).
func (s *Server) ServeTLS(ctx context.Context, l net.Listener, certFile, keyFile string) error {
	return s.serve(ctx, l, certFile, keyFile)
}

func (s *Server) serve(ctx context.Context, l net.Listener, certFile, keyFile string) error {
	hs := s.HTTPServer()
	errc := make(chan error, 1)
	go func() {
		if certFile != "" {
			errc <- hs.ServeTLS(l, certFile, keyFile)
		} else {
			errc <- hs.Serve(l)
		}
	}()
	select {
	case err := <-errc:
		s.Close()
		return err
	case <-ctx.Done():
	}
	s.startLeaving(hs)
	s.log.Info("leaving: not ready, answering open long-polls, still serving for the grace", "grace", s.cfg.ShutdownGrace.String())
	grace := time.NewTimer(s.cfg.ShutdownGrace)
	select {
	case <-grace.C:
	case <-s.baseCtx.Done(): // Close ends the grace early
	case err := <-errc: // the listener failed during the grace
		s.Close()
		return err
	}
	s.log.Info("shutting down: no new connections")
	s.shutdown(hs)
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// shutdown ends the grace: no new connections, every open request's context ends (an open long-poll answers
// 504 at once; a submit or cancel already sent runs to its end), and answers in flight get a few seconds to
// be written before the connections close.
func (s *Server) shutdown(hs *http.Server) {
	s.cancelBase()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		_ = hs.Close()
	}
	s.Close()
}

// Close stops the Server (and ends Serve's shutdown grace early): open requests end at once (an open long-poll answers a retryable 504), and idle
// upstream connections are dropped. Serve calls it when done; call it after using the Server as a plain
// handler (httptest.NewServer) to leave no goroutines behind. A closed Server answers nothing useful again.
func (s *Server) Close() {
	s.draining.Store(true)
	s.leaveNow()
	s.cancelBase()
	if t, ok := s.httpClient.Transport.(interface{ CloseIdleConnections() }); ok {
		t.CloseIdleConnections()
	}
}
