package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/posrefund/cloud/internal/httpapi"
	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/proxy/lane"
)

// LaneDevice is one device in GET /lane.
type LaneDevice struct {
	SerialNumber         string `json:"serialNumber"`
	ProcessingTerminalID string `json:"processingTerminalId"`
	Label                string `json:"label"`
}

// LaneInfo is the answer of GET /lane: what the page may do with its token.
type LaneInfo struct {
	Lane      string       `json:"lane"`
	Devices   []LaneDevice `json:"devices"`
	MaxAmount int64        `json:"maxAmount"`
	Currency  string       `json:"currency"`
	ExpiresAt string       `json:"expiresAt"`
	// ConfirmAbove is the amount (minor units) at or above which the page asks for a confirmation; 0: always.
	ConfirmAbove int64 `json:"confirmAbove"`
	// DuplicateWindow is how long (seconds) after an approved refund the page asks before refunding the same
	// amount on the same reader again; 0: never asks.
	DuplicateWindow int64        `json:"duplicateWindow"`
	Merchant        LaneMerchant `json:"merchant"`
}

// LaneMerchant is what the page's receipts print about the merchant.
type LaneMerchant struct {
	Name    string `json:"name"`
	Address string `json:"address"`
}

// DefaultConfirmAbove is Config.ConfirmAbove's default: refunds of 100.00 (in a two-decimal currency) and more
// need a second, deliberate press.
const DefaultConfirmAbove = 10000

// DefaultDuplicateWindow is Config.DuplicateWindow's default: ten minutes, longer than a customer stays at
// the till, so the same refund again while they are there is asked about.
const DefaultDuplicateWindow = 10 * time.Minute

// duplicateWindow is Config.DuplicateWindow in whole seconds for the page: 0 gives the default, negative 0.
func (s *Server) duplicateWindow() int64 {
	switch {
	case s.cfg.DuplicateWindow < 0:
		return 0
	case s.cfg.DuplicateWindow == 0:
		return int64(DefaultDuplicateWindow / time.Second)
	}
	return int64(s.cfg.DuplicateWindow / time.Second)
}

// confirmAbove is the threshold for a token: its own claim, else the proxy's setting.
func (s *Server) confirmAbove(c *lane.Claims) int64 {
	switch {
	case c.ConfirmAbove != nil:
		return *c.ConfirmAbove
	case s.cfg.ConfirmAbove < 0:
		return 0
	case s.cfg.ConfirmAbove == 0:
		return DefaultConfirmAbove
	}
	return s.cfg.ConfirmAbove
}

// TokenResponse is the answer of GET /dev/token and POST /admin/lane-tokens.
type TokenResponse struct {
	Token     string `json:"token"`
	ExpiresAt string `json:"expiresAt"`
	Lane      string `json:"lane"`
	TokenID   string `json:"tokenId"`
}

// TokenRequest is the body of POST /admin/lane-tokens.
type TokenRequest struct {
	Devices   []string `json:"devices"`
	MaxAmount int64    `json:"maxAmount"`
	Currency  string   `json:"currency,omitempty"`
	TTL       string   `json:"ttl,omitempty"`
	Lane      string   `json:"lane,omitempty"`
	// ConfirmAbove, when set, overrides the proxy's -confirm-above for this token (0: confirm every refund).
	ConfirmAbove *int64 `json:"confirmAbove,omitempty"`
}

// Dev tokens: every simulated device, 1,000.00 USD, a shift long.
const (
	devLane      = "dev"
	devMaxAmount = 100000
	devTTL       = 12 * time.Hour
)

func onlyMethod(w http.ResponseWriter, r *http.Request, m string) bool {
	if r.Method == m || (m == http.MethodGet && r.Method == http.MethodHead) {
		return true
	}
	writeProblem(w, methodNotAllowed(w, m))
	return false
}

// serveLane answers GET /lane: the token's devices (those this proxy knows), limit, currency and expiry.
func (s *Server) serveLane(w http.ResponseWriter, r *http.Request) {
	if s.preflight(w, r) || !onlyMethod(w, r, http.MethodGet) {
		return
	}
	if s.crossOriginRefused(r) {
		writeProblem(w, crossOriginProblem())
		return
	}
	c, ok := s.admitLane(w, r)
	if !ok {
		return
	}
	info := LaneInfo{Lane: c.Lane, Devices: []LaneDevice{}, MaxAmount: c.MaxAmount, Currency: c.Currency,
		ExpiresAt: c.Expiry().Format(time.RFC3339), ConfirmAbove: s.confirmAbove(c), DuplicateWindow: s.duplicateWindow(),
		Merchant: LaneMerchant{Name: s.cfg.MerchantName, Address: s.cfg.MerchantAddress}}
	if s.cfg.MaxAmount > 0 {
		info.MaxAmount = min(info.MaxAmount, s.cfg.MaxAmount)
	}
	for _, serial := range c.Devices {
		if d, ok := s.devices[serial]; ok {
			info.Devices = append(info.Devices, LaneDevice{SerialNumber: d.Serial, ProcessingTerminalID: d.TerminalID, Label: d.Label})
		}
	}
	httpapi.WriteJSON(w, http.StatusOK, info)
}

// serveDevToken answers GET /dev/token in simulator mode: a token for lane "dev" on every simulated device.
func (s *Server) serveDevToken(w http.ResponseWriter, r *http.Request) {
	if s.preflight(w, r) || !onlyMethod(w, r, http.MethodGet) {
		return
	}
	if s.crossOriginRefused(r) {
		writeProblem(w, crossOriginProblem())
		return
	}
	serials := make([]string, 0, len(s.cfg.Devices))
	for _, d := range s.cfg.Devices {
		serials = append(serials, d.Serial)
	}
	s.issue(w, r, "dev", lane.Spec{Lane: devLane, Devices: serials, MaxAmount: devMaxAmount, Currency: "USD", TTL: devTTL})
}

// serveAdmin answers POST /admin/lane-tokens for the merchant's back office (Bearer PROXY_ADMIN_KEY).
func (s *Server) serveAdmin(w http.ResponseWriter, r *http.Request) {
	if !s.admin(w, r, http.MethodPost) {
		return
	}
	body, e := s.readBody(w, r)
	if e != nil {
		writeProblem(w, e)
		return
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var req TokenRequest
	if err := dec.Decode(&req); err != nil || dec.More() {
		writeProblem(w, badRequest("The body must be {\"devices\":[…],\"maxAmount\":N,\"currency\":\"USD\",\"ttl\":\"12h\",\"lane\":\"front-1\",\"confirmAbove\":N}",
			payroc.FieldError{Parameter: "body", Message: "is not a valid token request"}))
		return
	}
	var fields []payroc.FieldError
	if len(req.Devices) == 0 {
		fields = append(fields, payroc.FieldError{Parameter: "devices", Message: "is required"})
	}
	for i, d := range req.Devices {
		if _, ok := s.devices[d]; !ok {
			fields = append(fields, payroc.FieldError{Parameter: fmt.Sprintf("devices[%d]", i), Message: "is not a device of this proxy"})
		}
	}
	var ttl time.Duration
	if req.TTL != "" {
		var err error
		if ttl, err = time.ParseDuration(req.TTL); err != nil || ttl < time.Second || ttl > lane.MaxTTL {
			fields = append(fields, payroc.FieldError{Parameter: "ttl", Message: "must be a duration from 1s to " + lane.MaxTTL.String() + ", such as 12h"})
		}
	}
	if len(fields) > 0 {
		writeProblem(w, badRequest("The token request is invalid", fields...))
		return
	}
	s.issue(w, r, "admin", lane.Spec{Lane: req.Lane, Devices: req.Devices, MaxAmount: req.MaxAmount, Currency: req.Currency, TTL: ttl,
		ConfirmAbove: req.ConfirmAbove})
}

func (s *Server) issue(w http.ResponseWriter, r *http.Request, via string, spec lane.Spec) {
	tok, c, err := s.keys.Issue(spec)
	if err != nil {
		writeProblem(w, badRequest("The token request is invalid: "+err.Error()))
		return
	}
	s.metrics.issued.WithLabelValues(via).Inc()
	s.log.InfoContext(r.Context(), "audit", slog.String("event", "lane-token"), slog.String("via", via),
		slog.String("laneTokenId", c.ID), slog.String("lane", c.Lane), slog.Any("devices", c.Devices),
		slog.Int64("maxAmount", c.MaxAmount), slog.String("currency", c.Currency),
		slog.String("expiresAt", c.Expiry().Format(time.RFC3339)))
	httpapi.WriteJSON(w, http.StatusOK, TokenResponse{Token: tok, ExpiresAt: c.Expiry().Format(time.RFC3339), Lane: c.Lane, TokenID: c.ID})
}
