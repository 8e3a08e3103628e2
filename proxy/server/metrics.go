package server

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/posrefund/cloud/internal/httpapi"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the proxy's Prometheus series, on a registry of its own so several servers can run in one
// process (tests, the end-to-end suite).
type metrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec
	upstream  *prometheus.HistogramVec
	mints     *prometheus.CounterVec
	mintTime  prometheus.Histogram
	longPolls prometheus.Gauge
	issued    *prometheus.CounterVec
	revoked   prometheus.Counter
	// stateErrors counts state calls that failed (each answered 503 state-unavailable).
	stateErrors prometheus.Counter

	// Children resolved once, as they first come (a series appears only once used, as before), so a request
	// costs no label hashing: upstreamBy by route, requestsBy by route and status (a few dozen pairs ever).
	upstreamBy sync.Map // httpapi.Route → prometheus.Observer
	requestsBy sync.Map // requestKey → prometheus.Counter
}

type requestKey struct {
	route  string
	status int
}

func newMetrics(busy func() float64) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "payroc_proxy_requests_total",
			Help: "Requests answered, by route and HTTP status.",
		}, []string{"route", "code"}),
		upstream: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "payroc_proxy_upstream_seconds",
			Help:    "Time of upstream Payroc calls by route (instruction GETs are long-polls of up to a minute).",
			Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 90},
		}, []string{"route"}),
		mints: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "payroc_proxy_token_mints_total",
			Help: "Payroc bearer token mints at the identity service, by result.",
		}, []string{"result"}),
		mintTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "payroc_proxy_token_mint_seconds",
			Help:    "Time of Payroc bearer token mints.",
			Buckets: prometheus.DefBuckets,
		}),
		longPolls: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "payroc_proxy_open_long_polls",
			Help: "Instruction status GETs now waiting on Payroc.",
		}),
		issued: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "payroc_proxy_lane_tokens_issued_total",
			Help: "Lane tokens issued, by where (dev, admin).",
		}, []string{"via"}),
		revoked: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "payroc_proxy_lane_tokens_revoked_total",
			Help: "Lane token revocations recorded (DELETE /admin/lane-tokens/{tokenId}).",
		}),
		stateErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "payroc_proxy_state_errors_total",
			Help: "Shared-state calls that failed, each answered 503 state-unavailable (nothing forwarded).",
		}),
	}
	m.reg.MustRegister(m.requests, m.upstream, m.mints, m.mintTime, m.longPolls, m.issued, m.revoked, m.stateErrors,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "payroc_proxy_busy_devices",
			Help: "Devices with a refund in flight (-1 while the shared state cannot be read).",
		}, busy),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

func (m *metrics) observeRequest(route string, status int) {
	k := requestKey{route, status}
	c, ok := m.requestsBy.Load(k)
	if !ok {
		c, _ = m.requestsBy.LoadOrStore(k, m.requests.WithLabelValues(route, strconv.Itoa(status)))
	}
	c.(prometheus.Counter).Inc()
}

// observeUpstream records one upstream call's time under its route.
func (m *metrics) observeUpstream(route httpapi.Route, d time.Duration) {
	o, ok := m.upstreamBy.Load(route)
	if !ok {
		o, _ = m.upstreamBy.LoadOrStore(route, m.upstream.WithLabelValues(route.String()))
	}
	o.(prometheus.Observer).Observe(d.Seconds())
}
