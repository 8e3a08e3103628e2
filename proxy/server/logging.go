package server

import (
	"context"
	"log/slog"
	"time"
)

// logAttrs writes one record, first then attrs, as s.log.LogAttrs would, but without looking up its call site
// (runtime.Callers on every line was a tenth of the proxy's own CPU per request): the record's PC is 0, so a
// handler set to AddSource prints no source for these lines. Access and audit lines go through it.
func (s *Server) logAttrs(ctx context.Context, level slog.Level, msg string, first slog.Attr, attrs ...slog.Attr) {
	h := s.log.Handler()
	if !h.Enabled(ctx, level) {
		return
	}
	r := slog.NewRecord(time.Now(), level, msg, 0)
	r.AddAttrs(first)
	r.AddAttrs(attrs...)
	_ = h.Handle(ctx, r)
}
