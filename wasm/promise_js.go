package main

import (
	"context"
	"runtime/debug"
	"syscall/js"

	"github.com/posrefund/cloud/payroc"
)

// work is the body of one exported call. It runs on its own goroutine, never inside the js.FuncOf callback
// that received the call: a callback that blocks deadlocks the Go program for good. It returns the JSON text
// the JavaScript wrapper parses (encoding/json is exact for every integer up to 2^53), or an error.
type work func(ctx context.Context) (string, error)

// makePromise starts w on a goroutine and returns a Promise of its result.
//
// signal is the caller's AbortSignal (or undefined): aborting it cancels w's context, which stops the
// network request at once, and the Promise rejects with signal.reason, exactly as fetch does. An error
// becomes a plain error object (see errorValue) that the wrapper turns into a PayrocError. A panic in w
// rejects with internal-error instead of killing the module.
func makePromise(signal js.Value, w work) js.Value {
	var resolve, reject js.Value
	executor := js.FuncOf(func(_ js.Value, args []js.Value) any {
		resolve, reject = args[0], args[1]
		return nil
	})
	p := js.Global().Get("Promise").New(executor) // the executor runs synchronously, inside New
	executor.Release()

	if isAbortSignal(signal) && signal.Get("aborted").Bool() {
		reject.Invoke(signal.Get("reason"))
		return p
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopListening := onAbort(signal, cancel)
	go func() {
		defer cancel()
		defer stopListening()
		result, err := run(ctx, w)
		switch {
		case err == nil:
			resolve.Invoke(result)
		case isAbortSignal(signal) && signal.Get("aborted").Bool():
			reject.Invoke(signal.Get("reason"))
		default:
			reject.Invoke(errorValue(err))
		}
	}()
	return p
}

// run calls w, turning a panic into an internal-error.
func run(ctx context.Context, w work) (result string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = panicError(r)
		}
	}()
	return w(ctx)
}

// panicError describes a recovered panic as internal-error, with the stack on the console for whoever
// debugs it (it names no secrets: only Go frames).
func panicError(r any) error {
	msg := "unexpected failure in the payroc module"
	switch v := r.(type) {
	case error:
		msg += ": " + v.Error()
	case string:
		msg += ": " + v
	}
	consoleError("payroc: recovered panic: " + msg + "\n" + string(debug.Stack()))
	return payroc.NewError(payroc.CodeInternalError, msg)
}

func consoleError(msg string) {
	defer func() { _ = recover() }()
	if c := js.Global().Get("console"); c.Truthy() {
		c.Call("error", msg)
	}
}

// isAbortSignal reports whether v looks like an AbortSignal (duck-typed, so polyfills work).
func isAbortSignal(v js.Value) bool {
	return v.Type() == js.TypeObject && v.Get("aborted").Type() == js.TypeBoolean &&
		v.Get("addEventListener").Type() == js.TypeFunction
}

// onAbort calls cancel when signal aborts and returns a function that stops listening and frees the
// callback. Without a signal it does nothing.
func onAbort(signal js.Value, cancel func()) (stop func()) {
	if !isAbortSignal(signal) {
		return func() {}
	}
	f := js.FuncOf(func(js.Value, []js.Value) any {
		cancel() // never blocks
		return nil
	})
	signal.Call("addEventListener", "abort", f)
	return func() {
		signal.Call("removeEventListener", "abort", f)
		f.Release()
	}
}

// entry wraps one exported function: any panic while reading the arguments (a getter that throws, a value of
// the wrong type) becomes a rejected Promise instead of escaping into JavaScript as a Go crash.
func entry(fn func(args []js.Value) js.Value) js.Func {
	return js.FuncOf(func(_ js.Value, args []js.Value) (ret any) {
		defer func() {
			if r := recover(); r != nil {
				err := panicError(r)
				ret = makePromise(js.Undefined(), func(context.Context) (string, error) { return "", err })
			}
		}()
		return fn(args)
	})
}

// jsRejection is a rejected JavaScript promise (or a thrown value) seen from Go.
type jsRejection struct{ v js.Value }

func (e *jsRejection) Error() string {
	defer func() { _ = recover() }()
	if e.v.Type() == js.TypeObject {
		if m := e.v.Get("message"); m.Type() == js.TypeString {
			name := e.v.Get("name")
			if name.Type() == js.TypeString && name.String() != "" {
				return name.String() + ": " + m.String()
			}
			return m.String()
		}
	}
	return js.Global().Call("String", e.v).String()
}

// await waits for the thenable (or plain value) p from a goroutine. When ctx ends first it returns ctx.Err()
// at once; the callbacks are freed only after p settles, because calling a released function kills the
// Go program.
func await(ctx context.Context, p js.Value) (js.Value, error) {
	type settled struct {
		v  js.Value
		ok bool
	}
	ch := make(chan settled, 1)
	onOK := js.FuncOf(func(_ js.Value, args []js.Value) any {
		ch <- settled{arg(args, 0), true}
		return nil
	})
	onErr := js.FuncOf(func(_ js.Value, args []js.Value) any {
		ch <- settled{arg(args, 0), false}
		return nil
	})
	release := func() { onOK.Release(); onErr.Release() }
	// The trailing catch takes Function.prototype, a native no-op: if the Go program exits before p settles,
	// calling onOK/onErr throws "Go program has already exited", which would otherwise surface as an
	// unhandled rejection. (new Function() would need 'unsafe-eval', which the CSP forbids.)
	js.Global().Get("Promise").Call("resolve", p).Call("then", onOK, onErr).
		Call("catch", js.Global().Get("Function").Get("prototype"))
	select {
	case s := <-ch:
		release()
		if !s.ok {
			return js.Undefined(), &jsRejection{s.v}
		}
		return s.v, nil
	case <-ctx.Done():
		go func() { <-ch; release() }()
		return js.Undefined(), ctx.Err()
	}
}

func arg(args []js.Value, i int) js.Value {
	if i < len(args) {
		return args[i]
	}
	return js.Undefined()
}
