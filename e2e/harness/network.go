package harness

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// Exchange is one HTTP request the page made and what came back, as Chromium saw it (CDP network events).
type Exchange struct {
	ID              network.RequestID
	Method, URL     string
	Type            string            // Document, Script, Fetch, …
	RequestHeaders  map[string]string // as sent on the wire when Chromium reported them (incl. Authorization)
	RequestBody     string            // POST data
	Status          int64
	MimeType        string
	ResponseHeaders map[string]string // lower-case names
	Body            []byte            // the decoded response body, when the load finished
	BodyErr         error             // why Body is missing
	Failed          string            // the network error, when the load failed
	Done            bool              // finished or failed
}

// Recorder keeps every request and response of one tab, bodies included. Start it before the navigation.
type Recorder struct {
	tab    *Tab
	mu     sync.Mutex
	byID   map[network.RequestID]*Exchange
	order  []network.RequestID
	bodies sync.WaitGroup
	queue  chan any
	queued atomic.Int64 // events handed over and not yet applied
	done   chan struct{}
}

// RecordNetwork starts recording the tab's network traffic, response bodies included (fetched with
// Network.getResponseBody as each load finishes). It stops when the test ends.
func (tab *Tab) RecordNetwork() *Recorder {
	tab.t.Helper()
	r := &Recorder{tab: tab, byID: map[network.RequestID]*Exchange{}, queue: make(chan any, 4096), done: make(chan struct{})}
	ctx, cancel := context.WithCancel(tab.ctx)
	// The listener runs inside the tab's read loop: it must only hand the event over.
	if err := chromedp.Listen(ctx, func(ev any) {
		switch ev.(type) {
		case *network.EventRequestWillBeSent, *network.EventRequestWillBeSentExtraInfo,
			*network.EventResponseReceived, *network.EventResponseReceivedExtraInfo,
			*network.EventLoadingFinished, *network.EventLoadingFailed:
			r.queued.Add(1)
			select {
			case r.queue <- ev:
			case <-ctx.Done():
				r.queued.Add(-1)
			}
		}
	}); err != nil {
		cancel()
		tab.Fatalf("recording the network: %v", err)
	}
	go r.loop(ctx)
	tab.t.Cleanup(func() {
		cancel()
		<-r.done
		r.bodies.Wait()
	})
	return r
}

func (r *Recorder) get(id network.RequestID) *Exchange {
	x := r.byID[id]
	if x == nil {
		x = &Exchange{ID: id, RequestHeaders: map[string]string{}, ResponseHeaders: map[string]string{}}
		r.byID[id] = x
		r.order = append(r.order, id)
	}
	return x
}

func (r *Recorder) loop(ctx context.Context) {
	defer close(r.done)
	for {
		var ev any
		select {
		case <-ctx.Done():
			return
		case ev = <-r.queue:
		}
		r.mu.Lock()
		r.apply(ctx, ev)
		r.mu.Unlock()
		r.queued.Add(-1)
	}
}

// apply files one network event under its request; r.mu is held.
func (r *Recorder) apply(ctx context.Context, ev any) {
	switch e := ev.(type) {
	case *network.EventRequestWillBeSent:
		r.requestSent(ctx, e)
	case *network.EventRequestWillBeSentExtraInfo:
		addHeaders(r.get(e.RequestID).RequestHeaders, e.Headers, false)
	case *network.EventResponseReceived:
		x := r.get(e.RequestID)
		x.Status, x.MimeType = e.Response.Status, e.Response.MimeType
		if x.URL == "" {
			x.URL = e.Response.URL
		}
		addHeaders(x.ResponseHeaders, e.Response.Headers, true)
		addHeaders(x.RequestHeaders, e.Response.RequestHeaders, false)
	case *network.EventResponseReceivedExtraInfo:
		x := r.get(e.RequestID)
		addHeaders(x.ResponseHeaders, e.Headers, true)
		if x.Status == 0 {
			x.Status = e.StatusCode
		}
	case *network.EventLoadingFailed:
		x := r.get(e.RequestID)
		x.Failed, x.Done = e.ErrorText, true
	case *network.EventLoadingFinished:
		r.fetchBody(ctx, r.get(e.RequestID), e.RequestID)
	}
}

// requestSent files a request and its body; a body the event leaves out is asked for on its own.
func (r *Recorder) requestSent(ctx context.Context, e *network.EventRequestWillBeSent) {
	x := r.get(e.RequestID)
	x.Method, x.URL, x.Type = e.Request.Method, e.Request.URL, string(e.Type)
	addHeaders(x.RequestHeaders, e.Request.Headers, false)
	for _, p := range e.Request.PostDataEntries {
		x.RequestBody += string(p.Bytes)
	}
	if !e.Request.HasPostData || x.RequestBody != "" {
		return
	}
	id := e.RequestID
	r.bodies.Go(func() {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		res, err := chromedp.Call(cctx, network.GetRequestPostData, network.GetRequestPostDataParams{RequestID: id})
		r.mu.Lock()
		defer r.mu.Unlock()
		if err == nil {
			r.byID[id].RequestBody = string(res.PostData)
		}
	})
}

// fetchBody reads a finished response's body, off the event loop.
func (r *Recorder) fetchBody(ctx context.Context, x *Exchange, id network.RequestID) {
	r.bodies.Go(func() {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		res, err := chromedp.Call(cctx, network.GetResponseBody, network.GetResponseBodyParams{RequestID: id})
		r.mu.Lock()
		defer r.mu.Unlock()
		x.Body, x.BodyErr, x.Done = res.Body, err, true
	})
}

func addHeaders(dst map[string]string, h network.Headers, lower bool) {
	for k, v := range h {
		if lower {
			k = strings.ToLower(k)
		}
		dst[k] = fmt.Sprint(v)
	}
}

// Exchanges returns what was recorded so far, in request order, after waiting (up to the step deadline) for
// the bodies of finished loads to be fetched.
func (r *Recorder) Exchanges() []Exchange {
	// Flush: the events the tab sent before this round trip are in the queue once it returns.
	ctx, cancel := context.WithTimeout(r.tab.ctx, r.tab.timeout())
	defer cancel()
	_, _ = chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](`0`))
	for r.queued.Load() > 0 && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	waited := make(chan struct{})
	go func() { r.bodies.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-ctx.Done():
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Exchange, 0, len(r.order))
	for _, id := range r.order {
		x := *r.byID[id]
		x.RequestHeaders = cloneMap(x.RequestHeaders)
		x.ResponseHeaders = cloneMap(x.ResponseHeaders)
		out = append(out, x)
	}
	return out
}

// Find returns the recorded exchanges whose URL path ends with suffix (before any query).
func (r *Recorder) Find(suffix string) []Exchange {
	var out []Exchange
	for _, x := range r.Exchanges() {
		u := x.URL
		if i := strings.IndexAny(u, "?#"); i >= 0 {
			u = u[:i]
		}
		if strings.HasSuffix(u, suffix) {
			out = append(out, x)
		}
	}
	return out
}

func cloneMap(m map[string]string) map[string]string {
	c := make(map[string]string, len(m))
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		c[k] = m[k]
	}
	return c
}
