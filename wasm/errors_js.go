package main

import (
	"encoding/json"
	"syscall/js"

	"github.com/posrefund/cloud/payroc"
)

// jsError is the plain object a rejected call carries across to JavaScript; payroc.js turns it into a
// PayrocError instance (a real Error, with a stack in the caller's code).
type jsError struct {
	Name      string          `json:"name"` // always "PayrocError": how the wrapper recognises it
	Code      string          `json:"code"`
	Status    int             `json:"status"`
	Message   string          `json:"message"`
	Problem   json.RawMessage `json:"problem"` // the problem document, or null
	Retryable bool            `json:"retryable"`
}

// toJSError describes err for JavaScript. The problem is the document as the server sent it; a local
// invalid-request gets one made from its field errors, so problem.errors[] names the fields either way.
// Other local failures (network-error, internal-error, module-exited) have none.
func toJSError(err error) jsError {
	e := payroc.AsError(err)
	out := jsError{Name: "PayrocError", Code: e.Code, Status: e.Status, Message: errorMessage(e),
		Retryable: e.Retryable(), Problem: json.RawMessage("null")}
	switch {
	case len(e.Problem) > 0 && json.Valid(e.Problem):
		out.Problem = e.Problem
	case e.Code == payroc.CodeInvalidRequest:
		if b, merr := json.Marshal(e); merr == nil {
			out.Problem = b
		}
	}
	return out
}

// errorMessage is the message of the JavaScript error: the server's detail (or title) and the fields at
// fault, without the "payroc:" prefix Go's own Error() adds.
func errorMessage(e *payroc.Error) string {
	msg := e.Error()
	const prefix = "payroc: "
	if len(msg) > len(prefix) && msg[:len(prefix)] == prefix {
		msg = msg[len(prefix):]
	}
	return msg
}

// errorValue is toJSError as a JavaScript object.
func errorValue(err error) js.Value {
	b, merr := json.Marshal(toJSError(err))
	if merr != nil { // cannot happen: every field marshals
		b = []byte(`{"name":"PayrocError","code":"internal-error","status":0,"message":"unreportable error","problem":null,"retryable":false}`)
	}
	return js.Global().Get("JSON").Call("parse", string(b))
}
