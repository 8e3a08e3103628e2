package main

import (
	"cmp"
	"context"
	"encoding/json"
	"strings"
	"syscall/js"

	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/wasm/pending"
)

// config is what load() hands the module, plus the seams tests replace.
type config struct {
	BaseURL  string   // the proxy's origin; the API is under BaseURL + "/v1"
	Token    string   // the lane token
	GetToken js.Value // async () => string, called when the proxy says the token expired; may be undefined
	Doer     payroc.Doer
	Storage  pending.Storage
	Retry    payroc.RetryPolicy
}

// api is the module's JavaScript surface: each method is one exported function returning a Promise.
type api struct {
	client *payroc.Client
	store  *pending.Store
}

func newAPI(cfg config) *api {
	base := strings.TrimRight(cfg.BaseURL, "/")
	if !strings.HasSuffix(base, "/v1") {
		base += "/v1"
	}
	var renew func(ctx context.Context) (string, error)
	if cfg.GetToken.Type() == js.TypeFunction {
		getToken := cfg.GetToken
		renew = func(ctx context.Context) (string, error) { return callGetToken(ctx, getToken) }
	}
	return &api{
		client: &payroc.Client{BaseURL: base, Doer: cfg.Doer, Tokens: payroc.NewStaticToken(cfg.Token, renew), Retry: cfg.Retry},
		store:  newStore(cfg.Storage),
	}
}

// newStore is the pending-record store over s, its storage failures on the console.
func newStore(s pending.Storage) *pending.Store {
	st := pending.NewStore(s)
	st.Warn = warnStorage
	return st
}

// callGetToken asks the page for a new lane token; it runs on a call's goroutine, so it may wait. A
// PayrocError the page's getToken throws or rejects with keeps its own code; any other failure, or no token,
// is token-unavailable (payroc.js's own wrapper already makes it so; this covers a bare function).
func callGetToken(ctx context.Context, getToken js.Value) (tok string, err error) {
	var p js.Value
	if err := catch(func() { p = getToken.Invoke() }); err != nil {
		return "", tokenError(err)
	}
	v, err := await(ctx, p)
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", tokenError(err)
	}
	if v.Type() != js.TypeString || v.String() == "" {
		return "", payroc.NewError(payroc.CodeTokenUnavailable, "getToken gave no token")
	}
	return v.String(), nil
}

// tokenError is the error of a failed getToken: the PayrocError it threw, as it is, or token-unavailable.
func tokenError(err error) error {
	if e := payrocErrorOf(err); e != nil {
		return e
	}
	return payroc.NewError(payroc.CodeTokenUnavailable, "getToken failed: "+err.Error())
}

// payrocErrorOf reads a thrown or rejected PayrocError (name "PayrocError" and a string code) back into a
// *payroc.Error; nil for anything else.
func payrocErrorOf(err error) (out *payroc.Error) {
	r, ok := err.(*jsRejection)
	if je, thrown := err.(js.Error); thrown { // thrown synchronously (see catch)
		r, ok = &jsRejection{je.Value}, true
	}
	if !ok {
		return nil
	}
	defer func() {
		if recover() != nil {
			out = nil
		}
	}()
	v := r.v
	if v.Type() != js.TypeObject || v.Get("name").Type() != js.TypeString || v.Get("name").String() != "PayrocError" ||
		v.Get("code").Type() != js.TypeString {
		return nil
	}
	e := &payroc.Error{Code: v.Get("code").String(), Title: payroc.TitleForCode(v.Get("code").String())}
	if s := v.Get("status"); s.Type() == js.TypeNumber {
		e.Status = s.Int()
	}
	if m := v.Get("message"); m.Type() == js.TypeString {
		e.Detail = m.String()
	}
	if p := v.Get("problem"); p.Type() == js.TypeObject {
		if b := js.Global().Get("JSON").Call("stringify", p); b.Type() == js.TypeString {
			e.Problem = []byte(b.String())
		}
	}
	return e
}

// object returns the JavaScript object of exported functions. The functions live as long as the page.
func (a *api) object() js.Value {
	o := js.Global().Get("Object").New()
	o.Set("submit", entry(a.submit))
	o.Set("watch", entry(a.watch))
	o.Set("cancel", entry(a.cancel))
	o.Set("getRefund", entry(a.getRefund))
	o.Set("refund", entry(a.refund))
	o.Set("pending", entry(a.pending))
	o.Set("resume", entry(a.resume))
	o.Set("forget", entry(a.forget))
	o.Set("newIdempotencyKey", js.FuncOf(newIdempotencyKey))
	return o
}

// newIdempotencyKey() → a fresh UUID v4 (google/uuid), synchronously: the key a page keeps before it calls
// refund. It cannot fail in a browser (crypto.getRandomValues); were it to panic, it answers undefined,
// which payroc.js turns into an internal-error.
func newIdempotencyKey(js.Value, []js.Value) (key any) {
	defer func() {
		if r := recover(); r != nil {
			_ = panicError(r)
			key = js.Undefined()
		}
	}()
	return payroc.NewIdempotencyKey()
}

// options reads the optional options object of a call.
type options struct {
	signal   js.Value
	onStatus js.Value
	key      string
	keyErr   error // idempotencyKey is not a string
	fnErr    error // onStatus is not a function
}

func readOptions(v js.Value) options {
	o := options{signal: js.Undefined(), onStatus: js.Undefined()}
	if v.Type() != js.TypeObject {
		return o
	}
	o.signal = v.Get("signal")
	if f := v.Get("onStatus"); f.Type() == js.TypeFunction {
		o.onStatus = f
	} else if f.Truthy() {
		o.fnErr = payroc.NewError(payroc.CodeInvalidRequest, "onStatus must be a function",
			payroc.FieldError{Parameter: "onStatus", Message: "must be a function"})
	}
	switch k := v.Get("idempotencyKey"); k.Type() {
	case js.TypeString:
		o.key = k.String()
	case js.TypeUndefined, js.TypeNull:
	default:
		o.keyErr = payroc.NewError(payroc.CodeInvalidRequest, "The Idempotency-Key must be a UUID v4",
			payroc.FieldError{Parameter: "idempotencyKey", Message: "must be a string"})
	}
	return o
}

// stringArg reads a required string argument (an id or a key) or says which parameter is wrong.
func stringArg(args []js.Value, i int, name string) (string, error) {
	v := arg(args, i)
	if v.Type() != js.TypeString || v.String() == "" {
		return "", payroc.NewError(payroc.CodeInvalidRequest, name+" is required",
			payroc.FieldError{Parameter: name, Message: "must be a non-empty string"})
	}
	return v.String(), nil
}

// report hands one status to the caller's onStatus (the wrapper's, which parses the JSON and shields the
// module from exceptions the page's callback throws).
func report(onStatus js.Value, inst *payroc.RefundInstruction) {
	if onStatus.Type() != js.TypeFunction {
		return
	}
	b, err := json.Marshal(inst)
	if err != nil {
		return
	}
	if err := catch(func() { onStatus.Invoke(string(b)) }); err != nil {
		consoleError("payroc: onStatus threw: " + err.Error())
	}
}

func marshal(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", payroc.AsError(err)
	}
	return string(b), nil
}

func warnStorage(err error) {
	if err != nil {
		consoleError("payroc: could not update the pending-refund record: " + err.Error())
	}
}

// recordError is the refusal of a refund that could not be recorded before sending: storage-unavailable.
func recordError(err error) error {
	return payroc.NewError(payroc.CodeStorageUnavailable,
		"the refund could not be recorded in this browser's storage, so it was not sent: "+err.Error())
}

// call is the opening every promise-returning function shares: read the options (the second argument),
// then, on the promise's goroutine, refuse the call when its argument (argErr) or its options are wrong,
// before any work; otherwise run work.
func call(args []js.Value, argErr error, work func(ctx context.Context, opts options) (string, error)) js.Value {
	opts := readOptions(arg(args, 1))
	return makePromise(opts.signal, func(ctx context.Context) (string, error) {
		if err := cmp.Or(argErr, opts.keyErr, opts.fnErr); err != nil {
			return "", err
		}
		return work(ctx, opts)
	})
}

// submit(requestJSON, {idempotencyKey, signal}) → Instruction JSON.
func (a *api) submit(args []js.Value) js.Value {
	text := jsonArg(args, 0)
	return call(args, nil, func(ctx context.Context, opts options) (string, error) {
		r, fresh, err := a.begin(text, opts.key)
		if err != nil {
			return "", err
		}
		inst, err := a.store.Submit(ctx, a.client, r, fresh)
		if err != nil {
			return "", err
		}
		return marshal(inst)
	})
}

// begin reads and checks a request and its key, once, and records it before anything is sent.
func (a *api) begin(text, key string) (payroc.DeviceRefund, bool, error) {
	r, err := pending.ParseRequest(text, key)
	if err != nil {
		return r, false, err
	}
	fresh, err := a.store.Begin(r)
	if err != nil {
		return r, false, recordError(err)
	}
	return r, fresh, nil
}

// jsonArg is the request argument as JSON text: the wrapper passes JSON.stringify(request).
func jsonArg(args []js.Value, i int) string {
	if v := arg(args, i); v.Type() == js.TypeString {
		return v.String()
	}
	return "null"
}

// keyArg reads a required idempotency key argument, in canonical form: the records are filed under it.
func keyArg(args []js.Value, i int) (string, error) {
	key, err := stringArg(args, i, "idempotencyKey")
	if err != nil {
		return "", err
	}
	return payroc.ParseIdempotencyKey(key)
}

// watch(id, {onStatus, signal}) → the final Instruction JSON.
func (a *api) watch(args []js.Value) js.Value {
	id, idErr := stringArg(args, 0, "refundInstructionId")
	return call(args, idErr, func(ctx context.Context, opts options) (string, error) {
		// Each status is recorded on this browser's record of id, if any; the final one ends it.
		inst, err := a.store.Watch(ctx, a.client, id, func(inst *payroc.RefundInstruction) { report(opts.onStatus, inst) })
		if err != nil {
			return "", err
		}
		return marshal(inst)
	})
}

// cancel(id, {signal}) → the Instruction as it now stands.
func (a *api) cancel(args []js.Value) js.Value {
	id, idErr := stringArg(args, 0, "refundInstructionId")
	return call(args, idErr, func(ctx context.Context, _ options) (string, error) {
		// A 404 (the proxy restarted) re-attaches first: the recorded submit is replayed, then canceled.
		inst, err := a.store.Cancel(ctx, a.client, id)
		if err != nil {
			return "", err
		}
		return marshal(inst)
	})
}

// getRefund(id, {signal}) → Refund JSON.
func (a *api) getRefund(args []js.Value) js.Value {
	id, idErr := stringArg(args, 0, "refundId")
	return call(args, idErr, func(ctx context.Context, _ options) (string, error) {
		r, err := a.client.Refund(ctx, id)
		if err != nil {
			return "", err
		}
		return marshal(r)
	})
}

// refund(requestJSON, {idempotencyKey, onStatus, signal}) → RefundResult JSON.
func (a *api) refund(args []js.Value) js.Value {
	text := jsonArg(args, 0)
	return call(args, nil, func(ctx context.Context, opts options) (string, error) {
		r, fresh, err := a.begin(text, opts.key)
		if err != nil {
			return "", err
		}
		return a.run(ctx, r, fresh, opts.onStatus)
	})
}

// resume(key, {onStatus, signal}) → RefundResult JSON, for a refund this browser recorded.
func (a *api) resume(args []js.Value) js.Value {
	key, keyErr := keyArg(args, 0)
	return call(args, keyErr, func(ctx context.Context, opts options) (string, error) {
		rec, err := a.store.Get(key)
		if err != nil {
			return "", payroc.NewError(payroc.CodeInternalError, "the pending refund could not be read: "+err.Error())
		}
		if rec == nil {
			return "", &payroc.Error{Code: payroc.CodeNotFound, Title: payroc.TitleForCode(payroc.CodeNotFound),
				Detail: "no unfinished refund with this idempotency key in this browser"}
		}
		r, err := rec.DeviceRefund()
		if err != nil {
			return "", err
		}
		return a.run(ctx, r, false, opts.onStatus)
	})
}

// run is refund and resume (pending.Store.Run), each status also handed to the caller's onStatus.
func (a *api) run(ctx context.Context, r payroc.DeviceRefund, fresh bool, onStatus js.Value) (string, error) {
	res, err := a.store.Run(ctx, a.client, r, fresh, func(inst *payroc.RefundInstruction) { report(onStatus, inst) })
	if err != nil {
		return "", err
	}
	return marshal(res)
}

// pending() → PendingRefund[] JSON.
func (a *api) pending([]js.Value) js.Value {
	return makePromise(js.Undefined(), func(context.Context) (string, error) {
		recs, err := a.store.List()
		if err != nil {
			return "", payroc.NewError(payroc.CodeInternalError, "the pending refunds could not be read: "+err.Error())
		}
		return marshal(recs)
	})
}

// forget(key) → boolean JSON: drops a pending record without finishing it, for a refund settled some other
// way (checked on the device or in the back office). Whether it existed is the result.
func (a *api) forget(args []js.Value) js.Value {
	key, keyErr := keyArg(args, 0)
	return call(args, keyErr, func(context.Context, options) (string, error) {
		rec, err := a.store.Get(key)
		if err != nil {
			return "", payroc.NewError(payroc.CodeInternalError, "the pending refund could not be read: "+err.Error())
		}
		if rec == nil {
			return "false", nil
		}
		if err := a.store.Remove(key); err != nil {
			return "", payroc.NewError(payroc.CodeInternalError, "the pending refund could not be removed: "+err.Error())
		}
		return "true", nil
	})
}
