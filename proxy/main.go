// Command proxy is the Payroc Cloud refunds proxy: it holds the Payroc API key, gives browsers scoped lane
// tokens, and forwards exactly the four refund calls. With no PAYROC_API_KEY (or -simulate) it runs an
// embedded Payroc simulator as its upstream, so `make run` is a working demo.
//
//	proxy [flags]                 serve (see -h)
//	proxy token -devices S1,S2 -max-amount N [-currency USD] [-ttl 12h] [-lane ID] [-confirm-above N]
//
// This file only wires flags and the environment into proxy/server; everything else lives there.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/payroc/sim"
	"github.com/posrefund/cloud/proxy/lane"
	"github.com/posrefund/cloud/proxy/server"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version = ""

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // a second signal during the shutdown grace ends the process at once
	}()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// run is the whole program, minus the process: tests call it with their own args, environment and output.
// Exit status: 0 done, 1 failed while running, 2 bad usage or configuration.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "token" {
		return runToken(args[1:], getenv, stdout, stderr)
	}
	o, code := parseFlags(args, getenv, stderr)
	if o == nil {
		return code
	}
	return o.serve(ctx, getenv, stdout, stderr)
}

type options struct {
	addr, web, publicURL, devices, allowOrigin string
	maxAmount, confirmAbove                    int64
	merchantName, merchantAddress              string
	rate                                       float64
	maxPolls                                   int
	simulate                                   bool
	simAddr                                    string
	simDelay, simHold, simTimeout, simTokenTTL time.Duration
	duplicateWindow                            time.Duration
	simDevices                                 int
	env, apiURL, identityURL                   string
	tlsCert, tlsKey                            string
	grace, busyTimeout                         time.Duration
	logLevel                                   string
	state, statePrefix                         string
	stateTimeout                               time.Duration
}

const usageText = `Usage:
  proxy [flags]
  proxy token -devices S1,S2 -max-amount N [-currency USD] [-ttl 12h] [-lane ID] [-confirm-above N]

The Payroc Cloud refunds proxy: it keeps the Payroc API key, hands browsers lane tokens, and forwards only
the four refund calls. Without PAYROC_API_KEY (or with -simulate) it runs an embedded Payroc simulator.

Environment (secrets are never flags: flags show in ps):
  PAYROC_API_KEY       the Payroc API key; when unset the simulator is the upstream
  PROXY_TOKEN_SECRET   lane-token signing keys, comma-separated, each at least 32 bytes; the first signs,
                       all verify (rotation). Required with PAYROC_API_KEY; random in simulator mode
  PROXY_ADMIN_KEY      enables POST /admin/lane-tokens for "Authorization: Bearer <key>" (at least 32 bytes)
  PAYROC_SIM_API_KEY   the one API key the simulator accepts (default sim-api-key)
  PROXY_REDIS_URL      with -state redis: redis://[:password@]host:port/db or rediss://… (never logged)

Flags:
`

func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (*options, int) {
	o := &options{}
	fs := flag.NewFlagSet("proxy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usageText)
		fs.PrintDefaults()
	}
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "listen `HOST:PORT`")
	fs.StringVar(&o.web, "web", "web", "`DIR` of the static files: the POS page, payroc.js, payroc.d.ts, payroc.wasm(+.br/.gz), wasm_exec.js")
	fs.StringVar(&o.publicURL, "public-url", "", "the origin browsers use, e.g. https://pos.example when behind a TLS-terminating load balancer;\nused for link rewriting and origin checks (default: each request's own origin). With PAYROC_API_KEY\nonly requests for this host, -addr or the address they reached are answered (421 otherwise; /healthz,\n/readyz and /metrics answer any); the simulator answers any Host")
	fs.StringVar(&o.devices, "devices", "", "the devices this proxy may drive, with their processing terminals: `SERIAL=TERMINAL[=LABEL],...`\n(default in simulator mode: the simulator's)")
	fs.Int64Var(&o.maxAmount, "max-amount", 0, "global cap per refund in minor units, on top of each lane token's own (0: none)")
	fs.Int64Var(&o.confirmAbove, "confirm-above", server.DefaultConfirmAbove, "the amount in minor units at or above which the page asks the cashier to confirm a refund;\n0 confirms every refund (a lane token's own confirmAbove claim overrides it)")
	fs.DurationVar(&o.duplicateWindow, "duplicate-window", server.DefaultDuplicateWindow, "how long after an approved refund the page asks before refunding the same amount on the same\nreader again; 0 never asks")
	fs.StringVar(&o.merchantName, "merchant-name", "", "the merchant's name, printed on the page's receipts")
	fs.StringVar(&o.merchantAddress, "merchant-address", "", "the merchant's address, printed on the page's receipts")
	fs.StringVar(&o.allowOrigin, "allow-origin", "", "origins allowed to call the API cross-origin, comma-separated: `URL,...` (default none: same-origin only)")
	fs.Float64Var(&o.rate, "rate", 20, "requests per second per lane token (burst 3×); negative disables the limit")
	fs.IntVar(&o.maxPolls, "max-polls", 64, "status long-polls one lane may hold open at once; negative: no cap")
	fs.BoolVar(&o.simulate, "simulate", false, "use the embedded simulator as upstream (the default when PAYROC_API_KEY is unset)")
	fs.StringVar(&o.simAddr, "sim-addr", "", "also serve the simulator's Payroc API (/authorize, /v1/..., the root) and its /sim/ test controls on `HOST:PORT`")
	fs.DurationVar(&o.simDelay, "sim-delay", sim.DefaultDelay, "how long a simulated device takes to finish")
	fs.DurationVar(&o.simHold, "sim-hold", sim.DefaultHold, "how long the simulator holds a status GET (long-poll)")
	fs.DurationVar(&o.simTimeout, "sim-timeout", sim.DefaultTimeout, "when a simulated instruction nobody finishes fails")
	fs.DurationVar(&o.simTokenTTL, "sim-token-ttl", sim.DefaultTokenTTL, "lifetime of the simulator's identity tokens")
	fs.IntVar(&o.simDevices, "sim-devices", 0, "`N` more simulated devices for load tests: 1850020001, 1850020002, … on terminal 1234001")
	fs.StringVar(&o.env, "env", "test", "the Payroc environment when PAYROC_API_KEY is set: test (UAT) or production")
	fs.StringVar(&o.apiURL, "api-url", "", "upstream API base `URL` ending in /v1 (overrides -env)")
	fs.StringVar(&o.identityURL, "identity-url", "", "upstream identity base `URL` (POST {URL}/authorize; overrides -env)")
	fs.StringVar(&o.tlsCert, "tls-cert", "", "certificate `FILE` (PEM): serve HTTPS with HTTP/2 (with -tls-key)")
	fs.StringVar(&o.tlsKey, "tls-key", "", "private key `FILE` (PEM) for -tls-cert")
	fs.DurationVar(&o.grace, "shutdown-grace", 30*time.Second, "on SIGTERM, how long the proxy goes on answering (/readyz not ready, open long-polls answered within\na second) before it stops accepting and exits")
	fs.DurationVar(&o.busyTimeout, "busy-timeout", 3*time.Minute, "free a device whose in-flight refund nobody has asked about for this long")
	fs.StringVar(&o.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&o.state, "state", "memory", "where the shared state lives: memory (one instance) or redis (PROXY_REDIS_URL; several\ninstances behind any load balancer)")
	fs.StringVar(&o.statePrefix, "state-prefix", "payroc:", "namespace of the proxy's keys in Redis (several proxies or environments may share one)")
	fs.DurationVar(&o.stateTimeout, "state-timeout", 500*time.Millisecond, "with -state redis: how long one state call may take before the proxy answers 503 state-unavailable")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, 0
		}
		return nil, 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "proxy: unexpected argument %q (flags only; or the token subcommand first)\n", fs.Arg(0))
		return nil, 2
	}
	if !o.simulate && getenv("PAYROC_API_KEY") == "" {
		o.simulate = true
	}
	return o, 0
}

// serve runs the proxy until ctx ends: configuration errors exit 2 before anything listens, a failure while
// serving exits 1.
func (o *options) serve(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer) int {
	fail := func(err error) int {
		fmt.Fprintf(stderr, "proxy: %v\n", err)
		return 2
	}
	logger, err := o.logger(stderr)
	if err != nil {
		return fail(err)
	}
	cfg, err := o.config(getenv, logger)
	if err != nil {
		return fail(err)
	}
	up, err := o.upstream(getenv, logger)
	if err != nil {
		return fail(err)
	}
	defer up.close()
	up.apply(&cfg)
	closeState, err := o.openState(&cfg, getenv, logger)
	if err != nil {
		return fail(err)
	}
	defer closeState()
	s, err := server.New(cfg)
	if err != nil {
		return fail(flagError(err))
	}
	l, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fail(fmt.Errorf("-addr: %v", err))
	}
	for _, w := range s.Warnings() {
		fmt.Fprintln(stderr, "warning:", w)
	}
	fmt.Fprintf(stdout, "payroc proxy listening on %s://%s (%s)\n", o.scheme(), l.Addr(), up.mode)
	if o.tlsCert != "" {
		err = s.ServeTLS(ctx, l, o.tlsCert, o.tlsKey)
	} else {
		err = s.Serve(ctx, l)
	}
	if err != nil {
		fmt.Fprintf(stderr, "proxy: %v\n", err)
		return 1
	}
	logger.Info("stopped")
	return 0
}

func (o *options) scheme() string {
	if o.tlsCert != "" {
		return "https"
	}
	return "http"
}

func (o *options) logger(stderr io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
		return nil, fmt.Errorf("-log-level %q: use debug, info, warn or error", o.logLevel)
	}
	return slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level})), nil
}

// config is the server.Config the flags and the environment describe, upstream aside (see upstream).
func (o *options) config(getenv func(string) string, logger *slog.Logger) (server.Config, error) {
	cfg := server.Config{
		Addr: o.addr, WebDir: o.web, PublicURL: o.publicURL, MaxAmount: o.maxAmount, Rate: o.rate, MaxPollsPerLane: o.maxPolls,
		Simulate: o.simulate, TLSCertFile: o.tlsCert, TLSKeyFile: o.tlsKey, ShutdownGrace: o.grace,
		BusyTimeout: o.busyTimeout, AdminKey: getenv("PROXY_ADMIN_KEY"), Logger: logger, Version: versionString(),
		AllowOrigins: splitList(o.allowOrigin, "/"),
		ConfirmAbove: explicitZero(o.confirmAbove), DuplicateWindow: explicitZero(o.duplicateWindow),
		MerchantName: o.merchantName, MerchantAddress: o.merchantAddress,
	}
	if o.confirmAbove < 0 {
		return cfg, errors.New("-confirm-above must be 0 (confirm every refund) or more")
	}
	if o.duplicateWindow < 0 {
		return cfg, errors.New("-duplicate-window must be 0 (never ask) or more")
	}
	if o.rate == 0 {
		return cfg, errors.New("-rate 0 would refuse everything: give a positive rate, or a negative one for no limit")
	}
	if o.devices != "" {
		d, err := server.ParseDevices(o.devices)
		if err != nil {
			return cfg, err
		}
		cfg.Devices = d
	}
	if s := getenv("PROXY_TOKEN_SECRET"); s != "" {
		keys, err := lane.ParseSecrets(s)
		if err != nil {
			return cfg, err
		}
		cfg.TokenSecrets = keys
	}
	return cfg, nil
}

// splitList splits a comma-separated flag value, trimming spaces and then trim from the right of each item.
func splitList(s, trim string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimRight(strings.TrimSpace(item), trim); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// flagSource names, for each server.Config field main fills, the flag or variable a user sets it with.
var flagSource = map[string]string{
	"APIURL": "-api-url", "IdentityURL": "-identity-url", "APIKey": "PAYROC_API_KEY", "PublicURL": "-public-url",
	"TLSCertFile": "-tls-cert", "TLSKeyFile": "-tls-key", "Devices": "-devices", "MaxAmount": "-max-amount",
	"AllowOrigins": "-allow-origin", "ConfirmAbove": "-confirm-above",
	"MerchantName": "-merchant-name", "MerchantAddress": "-merchant-address", "TokenSecrets": "PROXY_TOKEN_SECRET", "AdminKey": "PROXY_ADMIN_KEY",
}

// flagError rewrites a server.FieldError to name the flag or environment variable the user sets.
func flagError(err error) error {
	var fe *server.FieldError
	if errors.As(err, &fe) {
		if name, ok := flagSource[fe.Field]; ok {
			return fmt.Errorf("%s: %w", name, fe.Err)
		}
	}
	return err
}

// upstream is where the proxy forwards: Payroc (or -api-url), or the embedded simulator it runs.
type upstream struct {
	apiURL, identityURL, apiKey string
	mode                        string // for the start line
	pollTimeout                 time.Duration
	devices                     []server.Device // the simulator's, used when -devices is not given
	close                       func()
}

func (u *upstream) apply(cfg *server.Config) {
	cfg.APIURL, cfg.IdentityURL, cfg.APIKey = u.apiURL, u.identityURL, u.apiKey
	if u.pollTimeout > 0 {
		cfg.PollTimeout = u.pollTimeout
	}
	if cfg.Devices == nil {
		cfg.Devices = u.devices
	}
}

func (o *options) upstream(getenv func(string) string, logger *slog.Logger) (*upstream, error) {
	if o.simulate {
		return o.startSimulator(getenv, logger)
	}
	up := &upstream{apiKey: getenv("PAYROC_API_KEY"), mode: "Payroc " + o.env, close: func() {}}
	switch o.env {
	case "test":
		up.apiURL, up.identityURL = payroc.UATAPIURL, payroc.UATIdentityURL
	case "production":
		up.apiURL, up.identityURL = payroc.ProductionAPIURL, payroc.ProductionIdentityURL
	default:
		return nil, fmt.Errorf("-env %q: use test or production", o.env)
	}
	if o.apiURL != "" {
		up.apiURL, up.mode = o.apiURL, "upstream "+o.apiURL
	}
	if o.identityURL != "" {
		up.identityURL = o.identityURL
	}
	return up, nil
}

// startSimulator checks the -sim-* flags and serves the embedded simulator on -sim-addr (or a free port).
func (o *options) startSimulator(getenv func(string) string, logger *slog.Logger) (*upstream, error) {
	if err := o.checkSimFlags(); err != nil {
		return nil, err
	}
	simKey := cmp.Or(getenv("PAYROC_SIM_API_KEY"), sim.DefaultAPIKey)
	l, err := net.Listen("tcp", cmp.Or(o.simAddr, "127.0.0.1:0"))
	if err != nil {
		return nil, fmt.Errorf("-sim-addr: %v", err)
	}
	simulator := sim.New(sim.Config{APIKey: simKey, Delay: o.simDelay, Hold: o.simHold, Timeout: o.simTimeout,
		TokenTTL: o.simTokenTTL, ExtraDevices: o.simDevices, Logger: logger.With("component", "sim")})
	srv := &http.Server{Handler: simulator, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
	base := "http://" + l.Addr().String()
	up := &upstream{apiURL: base + "/v1", identityURL: base, apiKey: simKey, mode: "simulator",
		pollTimeout: max(75*time.Second, o.simHold+15*time.Second)}
	for _, d := range simulator.Devices() {
		up.devices = append(up.devices, server.Device{Serial: d.SerialNumber, TerminalID: d.ProcessingTerminalID, Label: d.Label})
	}
	if o.simAddr != "" {
		up.mode = "simulator at " + base + ", controls at " + base + "/sim/"
	}
	up.close = func() {
		simulator.Close() // answers held long-polls, so Shutdown need not wait for them
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}
	if getenv("PAYROC_API_KEY") != "" {
		logger.Warn("-simulate given: PAYROC_API_KEY is ignored")
	}
	return up, nil
}

func (o *options) checkSimFlags() error {
	switch {
	case o.simDelay <= 0 || o.simHold <= 0 || o.simTimeout <= 0 || o.simTokenTTL <= 0:
		return errors.New("-sim-delay, -sim-hold, -sim-timeout and -sim-token-ttl must be positive")
	case o.simDevices < 0 || o.simDevices > sim.MaxExtraDevices:
		return fmt.Errorf("-sim-devices must be between 0 and %d", sim.MaxExtraDevices)
	case o.apiURL != "" || o.identityURL != "":
		return errors.New("-api-url and -identity-url need PAYROC_API_KEY (the simulator is the upstream without it)")
	}
	return nil
}

// runToken is `proxy token`: print one lane token signed with the first PROXY_TOKEN_SECRET key.
func runToken(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "proxy token: "+format+"\n", a...)
		return 2
	}
	spec, fs := tokenFlags(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		return fail("unexpected argument %q", fs.Arg(0))
	}
	secret := getenv("PROXY_TOKEN_SECRET")
	if secret == "" {
		return fail("PROXY_TOKEN_SECRET is not set: it must hold the proxy's signing key (at least 32 bytes)")
	}
	keys, err := lane.ParseSecrets(secret)
	if err != nil {
		return fail("%v", err)
	}
	ring, err := lane.NewKeyring(keys)
	if err != nil {
		return fail("%v", err)
	}
	spec.Devices = splitList(spec.devices, "")
	if len(spec.Devices) == 0 {
		return fail("-devices is required: the serial numbers the token may drive")
	}
	if spec.MaxAmount <= 0 {
		return fail("-max-amount is required: the largest refund in minor units")
	}
	tok, _, err := ring.Issue(spec.Spec)
	if err != nil {
		return fail("%v", err)
	}
	fmt.Fprintln(stdout, tok)
	return 0
}

// tokenSpec is the lane token `proxy token` issues, as its flags set it (devices still comma-separated).
type tokenSpec struct {
	lane.Spec
	devices string
}

// tokenFlags defines the flags of `proxy token`.
func tokenFlags(stderr io.Writer) (*tokenSpec, *flag.FlagSet) {
	spec := &tokenSpec{}
	fs := flag.NewFlagSet("proxy token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&spec.devices, "devices", "", "the serial numbers the token may drive, comma-separated: `S1,S2,...` (required)")
	fs.Int64Var(&spec.MaxAmount, "max-amount", 0, "largest refund in minor units, e.g. 50000 for 500.00 (required)")
	fs.StringVar(&spec.Currency, "currency", "USD", "the one currency the token may refund")
	fs.DurationVar(&spec.TTL, "ttl", lane.DefaultTTL, "how long the token is valid (at most "+lane.MaxTTL.String()+")")
	fs.StringVar(&spec.Lane, "lane", "", "the lane (POS station) id; tokens for the same lane share its refunds (default: random)")
	fs.Func("confirm-above", "`N`: the amount in minor units at or above which the page asks to confirm a refund, for this token\n(0: every refund; default: the proxy's -confirm-above)", func(v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return errors.New("must be a whole number of minor units, 0 or more")
		}
		spec.ConfirmAbove = &n
		return nil
	})
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: proxy token -devices S1,S2 -max-amount N [-currency USD] [-ttl 12h] [-lane ID] [-confirm-above N]\n\n"+
			"Prints a lane token (one line on stdout), signed with the first key of PROXY_TOKEN_SECRET.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	return spec, fs
}

// explicitZero maps a flag whose 0 is a setting of its own (-confirm-above 0: confirm every refund;
// -duplicate-window 0: never ask) to its server.Config field, where 0 means the default and a negative value
// stands for the flag's 0.
func explicitZero[T ~int64](flagValue T) T {
	if flagValue == 0 {
		return -1
	}
	return flagValue
}

func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
