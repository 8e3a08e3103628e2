package main

import (
	"cmp"
	"context"
	"errors"
	"strconv"
	"strings"
	"syscall/js"
	"time"

	"github.com/posrefund/cloud/payroc"
)

// fetchDoer is the browser's payroc.Doer: one fetch per request, tied to the context by an AbortController.
// Cancelling the context aborts the request before the headers arrive and, after them, the body read too
// (js/wasm does not stop a body read on its own). No answer at all (offline, refused, CORS) is an error,
// which the client reports as network-error; any HTTP answer, whatever its status, is a Response.
//
// Every request but a status long-poll (which the client bounds itself) gets at most CallTimeout: a
// connection that went silent (Wi-Fi lost without a reset) would otherwise hold a submit for minutes. The
// timeout is a network error, so the client retries with the same Idempotency-Key.
type fetchDoer struct {
	CallTimeout time.Duration // 0: defaultCallTimeout
}

// defaultCallTimeout is above the proxy's own 30 s bound on an upstream call, so the proxy's 504 comes first.
const defaultCallTimeout = 45 * time.Second

func (d fetchDoer) Do(ctx context.Context, req *payroc.Request) (*payroc.Response, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !isLongPoll(req) {
		timeout := cmp.Or(d.CallTimeout, defaultCallTimeout)
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, timeout, errCallTimeout)
		defer cancel()
	}
	ac := js.Global().Get("AbortController").New()
	stop := context.AfterFunc(ctx, func() { ac.Call("abort") })
	defer stop()

	res, err := await(ctx, js.Global().Call("fetch", req.URL, fetchInit(req, ac.Get("signal"))))
	if err != nil {
		return nil, fetchError(ctx, err)
	}
	out := &payroc.Response{StatusCode: res.Get("status").Int(), Header: headersOf(res)}

	if n, err := strconv.ParseInt(out.Header.Get("content-length"), 10, 64); err == nil && n > payroc.MaxResponseBytes {
		ac.Call("abort")
		return nil, errors.New("response body over " + strconv.Itoa(payroc.MaxResponseBytes) + " bytes")
	}
	buf, err := await(ctx, res.Call("arrayBuffer"))
	if err != nil {
		return nil, fetchError(ctx, err)
	}
	arr := js.Global().Get("Uint8Array").New(buf)
	n := arr.Get("byteLength").Int()
	if n > payroc.MaxResponseBytes {
		return nil, errors.New("response body over " + strconv.Itoa(payroc.MaxResponseBytes) + " bytes")
	}
	out.Body = make([]byte, n)
	js.CopyBytesToGo(out.Body, arr)
	return out, nil
}

// fetchInit is the RequestInit of req: its method, headers and body, and the policies every call keeps.
func fetchInit(req *payroc.Request, signal js.Value) js.Value {
	headers := js.Global().Get("Object").New()
	for k, v := range req.Header {
		headers.Set(k, v)
	}
	init := js.Global().Get("Object").New()
	init.Set("method", req.Method)
	init.Set("headers", headers)
	init.Set("signal", signal)
	init.Set("cache", "no-store")   // every status GET must reach the server
	init.Set("credentials", "omit") // the lane token is the only credential; no cookies ride along
	init.Set("redirect", "error")   // a refund API that redirects is misconfigured; never follow with the token
	init.Set("referrerPolicy", "same-origin")
	if req.Body != nil {
		b := js.Global().Get("Uint8Array").New(len(req.Body))
		js.CopyBytesToJS(b, req.Body)
		init.Set("body", b)
	}
	return init
}

// headersOf reads a fetch Response's headers.
func headersOf(res js.Value) payroc.Header {
	h := payroc.Header{}
	each := js.FuncOf(func(_ js.Value, args []js.Value) any {
		h.Set(arg(args, 1).String(), arg(args, 0).String())
		return nil
	})
	res.Get("headers").Call("forEach", each) // calls back synchronously
	each.Release()
	return h
}

// errCallTimeout is the cause of a request that ran out of CallTimeout.
var errCallTimeout = errors.New("no answer in time")

// isLongPoll reports whether req is a status GET of an instruction, which the server may hold for a minute.
func isLongPoll(req *payroc.Request) bool {
	return req.Method == "GET" && strings.Contains(req.URL, "/refund-instructions/")
}

// fetchError is ctx's error when the caller's context ended (the abort caused the failure), else a plain
// error for the client to report as network-error ("TypeError: Failed to fetch", or the call timeout).
func fetchError(ctx context.Context, err error) error {
	if errors.Is(context.Cause(ctx), errCallTimeout) {
		return errCallTimeout
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return errors.New("fetch: " + err.Error())
}
