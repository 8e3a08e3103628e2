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

// Serve answers HTTP on l until ctx ends, then shuts down gracefully: it stops accepting, lets open requests
// (long-polls) finish for up to Config.ShutdownGrace, then ends the rest (an open long-poll answers a
// retryable 504 upstream-timeout, and the page polls again) and closes. It returns nil after a clean shutdown.
// A Server serves once.
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
	s.draining.Store(true)
	s.log.Info("shutting down: no new connections; letting open requests finish", "grace", s.cfg.ShutdownGrace.String())
	gctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownGrace)
	defer cancel()
	if err := hs.Shutdown(gctx); err != nil {
		// Grace is over: end the open requests (they answer at once) and give them a moment to write.
		s.cancelBase()
		deadline := time.Now().Add(5 * time.Second)
		for s.active.Load() > 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		_ = hs.Close()
	}
	s.Close()
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Close stops the Server: open requests end at once (an open long-poll answers a retryable 504), and idle
// upstream connections are dropped. Serve calls it when done; call it after using the Server as a plain
// handler (httptest.NewServer) to leave no goroutines behind. A closed Server answers nothing useful again.
func (s *Server) Close() {
	s.draining.Store(true)
	s.cancelBase()
	if t, ok := s.httpClient.Transport.(interface{ CloseIdleConnections() }); ok {
		t.CloseIdleConnections()
	}
}
