package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/proxy/lane"
	"github.com/posrefund/cloud/proxy/state"
)

// Device is one payment device the proxy may drive: its serial number (the path parameter of a submit), the
// Payroc processing terminal it belongs to, and a label for the page.
type Device struct {
	Serial     string
	TerminalID string
	Label      string
}

// Config is everything the proxy is told at start. proxy/main.go fills it from flags and the environment;
// tests and users fill it directly. Zero values take the defaults named on each field; New refuses a
// configuration that cannot work with a *FieldError naming the field.
type Config struct {
	// Addr is where ListenAndServe listens (default 127.0.0.1:8080). Serve takes its own listener.
	Addr string
	// WebDir holds the page, payroc.js, payroc.d.ts, payroc.wasm (+ .br/.gz) and wasm_exec.js (default "web").
	WebDir string
	// PublicURL is the origin browsers use, e.g. https://pos.example (with an optional path prefix) when a
	// TLS-terminating load balancer sits in front: links are rewritten to it and it is a trusted origin.
	// Empty: each request's own origin.
	PublicURL string
	// TLSCertFile and TLSKeyFile, when both set, make ListenAndServe serve HTTPS with HTTP/2.
	TLSCertFile, TLSKeyFile string
	// Devices the proxy may drive, with their processing terminal ids. Required.
	Devices []Device
	// MaxAmount caps every refund in minor units, on top of each lane token's own cap (0: no extra cap).
	MaxAmount int64
	// AllowOrigins may call the API cross-origin (CORS); empty means same-origin only.
	AllowOrigins []string
	// Rate is the requests per second allowed per lane token, with a burst of 3×Rate (0: 20; <0: no limit).
	Rate float64
	// ConfirmAbove is the amount in minor units at or above which the page asks the cashier to confirm a
	// refund, for tokens without their own confirmAbove claim (0: DefaultConfirmAbove; negative: confirm
	// every refund, served as 0).
	ConfirmAbove int64
	// DuplicateWindow is how long after an approved refund the page asks before refunding the same amount on
	// the same reader again (served in GET /lane in seconds; 0: DefaultDuplicateWindow; negative: never asks).
	DuplicateWindow time.Duration
	// MerchantName and MerchantAddress are printed on the page's receipts (served in GET /lane).
	MerchantName, MerchantAddress string
	// MaxPollsPerLane caps the status long-polls one lane holds open at once (0: 64; <0: no cap). A till
	// watches one or two refunds; without a cap one token could hold Rate×60 s of upstream connections.
	MaxPollsPerLane int

	// Simulate marks the upstream as the simulator: it enables GET /dev/token and a random lane-token
	// secret when TokenSecrets is empty.
	Simulate bool
	// APIURL is the upstream API base ending in /v1 (e.g. payroc.UATAPIURL). Required.
	APIURL string
	// IdentityURL is the upstream identity base (POST {IdentityURL}/authorize). Required.
	IdentityURL string
	// APIKey is exchanged for Payroc bearer tokens. Required. It is never logged or served.
	APIKey string
	// TokenSecrets sign (the first) and verify (all) lane tokens; each at least 32 bytes.
	TokenSecrets [][]byte
	// AdminKey, when set (at least 32 bytes), enables POST /admin/lane-tokens (issue) and
	// DELETE /admin/lane-tokens/{tokenId} (revoke) for Bearer AdminKey.
	AdminKey string

	// PollTimeout bounds one upstream long-poll GET of an instruction (default 75s: above Payroc's 60 s hold).
	PollTimeout time.Duration
	// CallTimeout bounds every other upstream call (default 30s).
	CallTimeout time.Duration
	// BusyTimeout frees a device whose in-flight refund nobody has asked about for this long (default 3m):
	// the page went away without seeing a final status.
	BusyTimeout time.Duration
	// StateTTL is how long the proxy remembers which lane made which instruction and refund (default 24h).
	StateTTL time.Duration
	// MaxEntries bounds each of those maps (default 100000; the oldest entries go first).
	MaxEntries int
	// State holds what the proxy shares between requests and instances: the device guard, lane ownership,
	// rate limits and revocations (nil: state.NewMemory(StateSettings()), for one instance). For several
	// instances behind a load balancer, give a shared one built with the same rules, e.g. proxy/state/redis:
	//	cfg.State = redis.New(rdb, "payroc:", cfg.StateSettings())
	State state.State
	// MaxBodyBytes bounds a request body (default payroc.MaxRequestBytes, 64 KiB).
	MaxBodyBytes int64
	// BodyTimeout bounds reading a request body, from the end of its headers (default 30s): a body still
	// incomplete then is answered 408 request-timeout and its connection closed, so a client that trickles
	// a body cannot hold a connection open.
	BodyTimeout time.Duration
	// ShutdownGrace is how long Serve goes on answering after its context ends, not ready and with open
	// long-polls answered within a second, before it stops accepting and closes (default 30s).
	ShutdownGrace time.Duration
	// WriteTimeout bounds writing an ordinary response (default 60s); long-polls extend it per request.
	WriteTimeout time.Duration

	// TokenRefreshBefore, MintMinBackoff and MintMaxBackoff tune the Payroc token cache (payroc.TokenCache's
	// RefreshBefore, MinBackoff and MaxBackoff; zero: its defaults).
	TokenRefreshBefore             time.Duration
	MintMinBackoff, MintMaxBackoff time.Duration

	// HTTPClient carries every upstream call (nil: a client with sane dial and TLS timeouts and no overall
	// timeout: contexts bound each call).
	HTTPClient *http.Client
	// Logger receives JSON-friendly structured logs and the audit lines (nil: slog.Default()).
	Logger *slog.Logger
	// Version is reported by /healthz.
	Version string
	// Now is the clock for tokens and state (nil: time.Now). Tests move it forward.
	Now func() time.Time
}

// StateSettings are the state rules that follow from c (its defaults filled in): build a shared state with
// them, so every backend applies the same busy timeouts, rate and bounds as the memory one would. Rate,
// BusyTimeout, StateTTL and MaxEntries serve only here, so their defaults are state.Settings.WithDefaults'
// alone (setDefaults leaves them zero): one place, which every backend also applies.
func (c Config) StateSettings() state.Settings {
	c.setDefaults()
	set := state.Settings{TTL: c.StateTTL, BusyTimeout: c.BusyTimeout, SendTimeout: c.CallTimeout, Rate: c.Rate,
		MaxEntries: c.MaxEntries, Now: c.Now} // the burst is the state's default, 3×Rate
	set = set.WithDefaults()
	for _, d := range c.Devices {
		set.Devices = append(set.Devices, d.Serial)
	}
	return set
}

func (c *Config) setDefaults() {
	if c.Addr == "" {
		c.Addr = "127.0.0.1:8080"
	}
	if c.WebDir == "" {
		c.WebDir = "web"
	}
	if c.MaxPollsPerLane == 0 {
		c.MaxPollsPerLane = 64
	}
	if c.PollTimeout <= 0 {
		c.PollTimeout = 75 * time.Second
	}
	if c.CallTimeout <= 0 {
		c.CallTimeout = 30 * time.Second
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = payroc.MaxRequestBytes
	}
	if c.BodyTimeout <= 0 {
		c.BodyTimeout = 30 * time.Second
	}
	if c.ShutdownGrace <= 0 {
		c.ShutdownGrace = 30 * time.Second
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 60 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Version == "" {
		c.Version = "dev"
	}
}

// FieldError says which Config field cannot work and why. Field is the field's name in Config ("APIURL",
// "Devices"); a command that fills Config from flags maps it back to its own flag (see proxy/main.go).
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return "server.Config." + e.Field + ": " + e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }

func fieldErr(field, format string, a ...any) error {
	return &FieldError{Field: field, Err: fmt.Errorf(format, a...)}
}

// check reports the first field that cannot work, as one line naming it.
func (c *Config) check() error {
	checks := []func() error{c.checkUpstream, c.checkListener, c.checkDevices, c.checkPolicy, c.checkSecrets}
	for _, check := range checks {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

func (c *Config) checkUpstream() error {
	if err := checkURL("APIURL", c.APIURL, checkBase); err != nil {
		return err
	}
	if err := checkURL("IdentityURL", c.IdentityURL, checkBase); err != nil {
		return err
	}
	if c.APIKey == "" {
		return fieldErr("APIKey", "empty: the Payroc API key is required")
	}
	return nil
}

func (c *Config) checkListener() error {
	if c.PublicURL != "" {
		if err := checkURL("PublicURL", c.PublicURL, checkBase); err != nil {
			return err
		}
	}
	if c.TLSCertFile != "" && c.TLSKeyFile == "" {
		return fieldErr("TLSKeyFile", "empty while TLSCertFile is set: the two go together")
	}
	if c.TLSKeyFile != "" && c.TLSCertFile == "" {
		return fieldErr("TLSCertFile", "empty while TLSKeyFile is set: the two go together")
	}
	return nil
}

func (c *Config) checkDevices() error {
	if len(c.Devices) == 0 {
		return fieldErr("Devices", "empty: give at least one device with its processing terminal id")
	}
	seen := make(map[string]bool, len(c.Devices))
	for _, d := range c.Devices {
		if err := payroc.ValidateSerialNumber(d.Serial); err != nil {
			return fieldErr("Devices", "%q is not a device serial number", d.Serial)
		}
		if seen[d.Serial] {
			return fieldErr("Devices", "%s is listed twice", d.Serial)
		}
		seen[d.Serial] = true
		if n := len(d.TerminalID); n < 4 || n > 50 {
			return fieldErr("Devices", "device %s needs its processing terminal id (4 to 50 characters)", d.Serial)
		}
	}
	return nil
}

func (c *Config) checkPolicy() error {
	if c.MaxAmount < 0 || c.MaxAmount > payroc.MaxAmount {
		return fieldErr("MaxAmount", "%d: must be between 0 (no cap) and %d minor units", c.MaxAmount, int64(payroc.MaxAmount))
	}
	if c.ConfirmAbove > payroc.MaxAmount {
		return fieldErr("ConfirmAbove", "%d: must be at most %d minor units", c.ConfirmAbove, int64(payroc.MaxAmount))
	}
	if len(c.MerchantName) > 200 {
		return fieldErr("MerchantName", "over 200 bytes: too long for a receipt")
	}
	if len(c.MerchantAddress) > 500 {
		return fieldErr("MerchantAddress", "over 500 bytes: too long for a receipt")
	}
	for _, o := range c.AllowOrigins {
		if err := checkURL("AllowOrigins", o, checkOrigin); err != nil {
			return err
		}
	}
	return nil
}

func (c *Config) checkSecrets() error {
	if len(c.TokenSecrets) == 0 && !c.Simulate {
		return fieldErr("TokenSecrets", "empty: a lane-token signing key is required unless Simulate is set")
	}
	for i, k := range c.TokenSecrets {
		if len(k) < lane.MinSecretBytes {
			return fieldErr("TokenSecrets", "key %d is shorter than %d bytes", i+1, lane.MinSecretBytes)
		}
	}
	if c.AdminKey != "" && len(c.AdminKey) < 32 {
		return fieldErr("AdminKey", "shorter than 32 bytes")
	}
	return nil
}

// checkURL runs check on a URL field, naming the field and the URL without a password in it (the error
// goes to logs).
func checkURL(field, s string, check func(string) error) error {
	if s == "" {
		return fieldErr(field, "empty")
	}
	err := check(s)
	if err == nil {
		return nil
	}
	if u, perr := url.Parse(s); perr == nil {
		return fieldErr(field, "%q %v", u.Redacted(), err)
	}
	return fieldErr(field, "%v", err)
}

// checkBase accepts an absolute http(s) URL without query, fragment or credentials.
func checkBase(s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return errors.New("not a URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return errors.New("must start with http:// or https://")
	case u.Host == "":
		return errors.New("has no host")
	case u.User != nil:
		return errors.New("must not carry credentials")
	case u.RawQuery != "" || u.Fragment != "":
		return errors.New("must not have a query or fragment")
	}
	return nil
}

// checkOrigin accepts scheme://host[:port] exactly, as browsers send it in Origin.
func checkOrigin(s string) error {
	if err := checkBase(s); err != nil {
		return err
	}
	u, _ := url.Parse(s)
	if u.Path != "" {
		return errors.New("an origin has no path (scheme://host[:port])")
	}
	return nil
}

// ParseDevices reads the -devices flag: SERIAL=TERMINAL[=LABEL],... (the label may not contain commas).
func ParseDevices(s string) ([]Device, error) {
	var out []Device
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		parts := strings.SplitN(item, "=", 3)
		if len(parts) < 2 || parts[0] == "" || parts[1] == "" {
			return nil, fmt.Errorf("-devices: %q is not SERIAL=TERMINAL[=LABEL]", item)
		}
		d := Device{Serial: strings.TrimSpace(parts[0]), TerminalID: strings.TrimSpace(parts[1])}
		if len(parts) == 3 {
			d.Label = strings.TrimSpace(parts[2])
		}
		out = append(out, d)
	}
	if len(out) == 0 {
		return nil, errors.New("-devices: no device given")
	}
	return out, nil
}
