// Package backoffice is the kiosk example's stand-in for a merchant's back office: the merchant's own
// server, which serves the kiosk app and hands each kiosk a short-lived lane token. It holds the proxy's
// admin key (PROXY_ADMIN_KEY), which never reaches a browser, and mints tokens with the proxy's
// POST /admin/lane-tokens.
//
// A real back office checks who is asking first (the cashier's session, the kiosk's device certificate)
// and scopes the token to that till's card readers; this one gives every caller the same scope.
package backoffice

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// Config is what the back office needs to know.
type Config struct {
	// ProxyURL is the payroc proxy's origin as browsers reach it, e.g. https://payroc-proxy.example.
	ProxyURL string
	// AdminURL is where this server reaches the proxy's admin API (default ProxyURL).
	AdminURL string
	// AdminKey is the proxy's PROXY_ADMIN_KEY.
	AdminKey string
	// Devices are the serial numbers a kiosk's token may drive; MaxAmount its largest refund (minor units).
	Devices   []string
	MaxAmount int64
	// TTL is each token's lifetime (default 5m): short, since getToken renews it.
	TTL time.Duration
	// Lane names the kiosk (default "kiosk-1"): a renewed token of the same lane keeps its refunds.
	Lane string
	// Dir holds the kiosk app: index.html, kiosk.js and node_modules/@posrefund/payroc.
	Dir string
	// Client calls the proxy (nil: a client with a 10 s timeout).
	Client *http.Client
}

// BackOffice is the http.Handler: POST /lane-token, POST /sign-off, GET /config.json and the kiosk's files.
type BackOffice struct {
	cfg    Config
	files  http.Handler
	minted atomic.Int64
}

// New checks cfg and returns the back office.
func New(cfg Config) (*BackOffice, error) {
	if cfg.ProxyURL == "" || cfg.AdminKey == "" || len(cfg.Devices) == 0 || cfg.MaxAmount <= 0 || cfg.Dir == "" {
		return nil, errors.New("backoffice: ProxyURL, AdminKey, Devices, MaxAmount and Dir are required")
	}
	cfg.ProxyURL = strings.TrimRight(cfg.ProxyURL, "/")
	if cfg.AdminURL == "" {
		cfg.AdminURL = cfg.ProxyURL
	}
	if cfg.TTL == 0 {
		cfg.TTL = 5 * time.Minute
	}
	if cfg.Lane == "" {
		cfg.Lane = "kiosk-1"
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	return &BackOffice{cfg: cfg, files: http.FileServer(http.Dir(cfg.Dir))}, nil
}

// Minted counts the lane tokens handed out so far.
func (b *BackOffice) Minted() int { return int(b.minted.Load()) }

// ContentSecurityPolicy is the kiosk page's: its own scripts, the proxy's module files (when imported from
// the proxy), compiling WebAssembly, and calls to itself and the proxy; nothing inline.
func (b *BackOffice) ContentSecurityPolicy() string {
	p := b.cfg.ProxyURL
	return "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' " + p + "; connect-src 'self' " + p +
		"; img-src 'self' data:; style-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
}

func (b *BackOffice) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Security-Policy", b.ContentSecurityPolicy())
	w.Header().Set("X-Content-Type-Options", "nosniff")
	switch r.URL.Path {
	case "/lane-token":
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		b.serveToken(w, r)
	case "/sign-off":
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		b.serveSignOff(w, r)
	case "/config.json":
		writeJSON(w, http.StatusOK, map[string]string{"proxyURL": b.cfg.ProxyURL})
	default:
		w.Header().Set("Cache-Control", "no-cache")
		b.files.ServeHTTP(w, r)
	}
}

// serveToken mints a token with the proxy's admin API and passes on what the page needs.
func (b *BackOffice) serveToken(w http.ResponseWriter, r *http.Request) {
	tok, err := b.mint(r.Context())
	if err != nil {
		writeJSON(w, http.StatusBadGateway, map[string]string{"error": err.Error()})
		return
	}
	b.minted.Add(1)
	writeJSON(w, http.StatusOK, tok)
}

// serveSignOff revokes the token the kiosk names ({"tokenId": "…"}) with the proxy's
// DELETE /admin/lane-tokens/{tokenId}: the proxy refuses it from then on (lane-token-revoked).
func (b *BackOffice) serveSignOff(w http.ResponseWriter, r *http.Request) {
	var body struct {
		TokenID string `json:"tokenId"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&body); err != nil || body.TokenID == "" ||
		strings.ContainsAny(body.TokenID, "/?#%") {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": `send {"tokenId":"…"}`})
		return
	}
	req, err := http.NewRequestWithContext(r.Context(), http.MethodDelete, b.cfg.AdminURL+"/admin/lane-tokens/"+body.TokenID, nil)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	req.Header.Set("Authorization", "Bearer "+b.cfg.AdminKey)
	res, err := b.cfg.Client.Do(req)
	if err != nil {
		writeJSON(w, http.StatusBadGateway, map[string]string{"error": "the proxy cannot be reached: " + err.Error()})
		return
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNoContent {
		writeJSON(w, http.StatusBadGateway, map[string]string{"error": "the proxy refused the revocation: " + res.Status})
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// Token is a minted lane token as the page gets it.
type Token struct {
	Token     string `json:"token"`
	ExpiresAt string `json:"expiresAt"`
	Lane      string `json:"lane"`
	TokenID   string `json:"tokenId"`
}

func (b *BackOffice) mint(ctx context.Context) (Token, error) {
	var t Token
	body, _ := json.Marshal(map[string]any{"devices": b.cfg.Devices, "maxAmount": b.cfg.MaxAmount, "currency": "USD",
		"ttl": b.cfg.TTL.String(), "lane": b.cfg.Lane})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.cfg.AdminURL+"/admin/lane-tokens", bytes.NewReader(body))
	if err != nil {
		return t, err
	}
	req.Header.Set("Authorization", "Bearer "+b.cfg.AdminKey)
	req.Header.Set("Content-Type", "application/json")
	res, err := b.cfg.Client.Do(req)
	if err != nil {
		return t, fmt.Errorf("the proxy cannot be reached: %w", err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if res.StatusCode != http.StatusOK {
		return t, fmt.Errorf("the proxy refused a lane token: %s %s", res.Status, bytes.TrimSpace(raw))
	}
	if err := json.Unmarshal(raw, &t); err != nil || t.Token == "" {
		return t, fmt.Errorf("the proxy answered without a token: %s", bytes.TrimSpace(raw))
	}
	return t, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
