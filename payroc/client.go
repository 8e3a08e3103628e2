package payroc

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"time"
)

// Payroc's published bases.
const (
	UATAPIURL             = "https://api.uat.payroc.com/v1"
	UATIdentityURL        = "https://identity.uat.payroc.com"
	ProductionAPIURL      = "https://api.payroc.com/v1"
	ProductionIdentityURL = "https://identity.payroc.com"
)

// Client calls the four refund endpoints of Payroc Cloud, or of anything that serves the same paths (the
// proxy, the simulator). Its zero value with BaseURL set is usable; the other fields are hooks.
type Client struct {
	// BaseURL is the API base including /v1, e.g. UATAPIURL or "https://pos.example/v1".
	BaseURL string
	// Doer sends requests; nil means HTTPDoer on the host (the wasm build must set it).
	Doer Doer
	// Tokens supplies the Authorization bearer; nil sends none. If it also implements Renewer, a 401 renews
	// the token and replays the request once.
	Tokens TokenSource
	// Retry governs retries of network errors, 408, 429 and 5xx (a submit keeps its Idempotency-Key).
	Retry RetryPolicy
	// PollTimeout bounds one long-poll GET of an instruction (0: 75s). Payroc holds each for up to 60 s.
	PollTimeout time.Duration
	// MinPollInterval spaces long-polls that come back early and unchanged (0: 250ms), so a server that
	// does not hold the request is never polled in a tight loop.
	MinPollInterval time.Duration
	// Header is added to every request (e.g. a User-Agent); the client's own headers win.
	Header Header
}

func (c *Client) doer() Doer {
	if c.Doer != nil {
		return c.Doer
	}
	return defaultDoer()
}

func (c *Client) pollTimeout() time.Duration {
	if c.PollTimeout > 0 {
		return c.PollTimeout
	}
	return 75 * time.Second
}

func (c *Client) minPoll() time.Duration {
	if c.MinPollInterval > 0 {
		return c.MinPollInterval
	}
	return 250 * time.Millisecond
}

// Do sends one API call once: path is relative to BaseURL ("/refunds/CD3HN88U9F"), header and body go as
// given. It adds the bearer and, on a 401 with a Renewer, renews and replays once; it does not retry and does
// not interpret the status: any answer is returned as a Response. The error is non-nil only when no answer
// came (network-error), ctx ended (ctx.Err()), or no token could be had. The proxy forwards through it.
func (c *Client) Do(ctx context.Context, method, path string, header Header, body []byte) (*Response, error) {
	d := c.doer()
	if d == nil {
		return nil, NewError(CodeInternalError, "payroc.Client has no Doer")
	}
	if c.BaseURL == "" {
		return nil, NewError(CodeInternalError, "payroc.Client has no BaseURL")
	}
	req := &Request{Method: method, URL: strings.TrimRight(c.BaseURL, "/") + path, Body: body}
	req.Header = make(Header, len(header)+len(c.Header)+1)
	for k, v := range c.Header {
		req.Header.Set(k, v)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	renewed := false
	for {
		var tok string
		if c.Tokens != nil {
			t, err := c.Tokens.Token(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				return nil, AsError(err)
			}
			tok = t
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		res, err := d.Do(ctx, req)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			var pe *Error
			if errors.As(err, &pe) {
				return nil, pe
			}
			return nil, &Error{Code: CodeNetworkError, Title: TitleForCode(CodeNetworkError), Detail: err.Error(), Err: err}
		}
		if res.StatusCode == 401 && !renewed && tok != "" {
			if r, ok := c.Tokens.(Renewer); ok {
				renewed = true
				cause := ParseProblem(res.StatusCode, res.Header, res.Body)
				_, rerr := r.Renew(ctx, tok, cause)
				switch {
				case rerr == nil:
					continue
				case ctx.Err() != nil:
					return nil, ctx.Err()
				case rerr != error(cause): // the renewal itself failed: its own error says why (token-unavailable…)
					return nil, AsError(rerr)
				}
			}
		}
		return res, nil
	}
}

// call is Do with retries and status interpretation: a 2xx answer's body, or an *Error.
func (c *Client) call(ctx context.Context, method, path string, header Header, body []byte) (*Response, error) {
	p := c.Retry
	for attempt := 1; ; attempt++ {
		res, err := c.Do(ctx, method, path, header, body)
		var e *Error
		switch {
		case err != nil && ctx.Err() != nil:
			return nil, err
		case err != nil:
			e = AsError(err)
		case res.StatusCode >= 200 && res.StatusCode < 300:
			return res, nil
		default:
			e = ParseProblem(res.StatusCode, res.Header, res.Body)
		}
		if !e.Retryable() || attempt >= p.attempts() {
			return nil, e
		}
		if err := sleep(ctx, p.Backoff(attempt, e.RetryAfter)); err != nil {
			return nil, err
		}
	}
}

func decode[T any](res *Response) (*T, error) {
	var v T
	if err := json.Unmarshal(res.Body, &v); err != nil {
		return nil, &Error{Status: res.StatusCode, Code: CodeInternalError, Title: TitleForCode(CodeInternalError),
			Detail: "unreadable answer: " + err.Error(), Err: err}
	}
	return &v, nil
}

// Submit sends a refund instruction to its device (POST /devices/{serialNumber}/refund-instructions) and
// returns it as accepted (status inProgress). The returned instruction carries the refund's Idempotency-Key:
// keep it, and a retry of the same refund reuses it, so the gateway replays the original instead of making a
// second refund. r was checked when it was made (NewDeviceRefund): nothing unchecked is sent.
func (c *Client) Submit(ctx context.Context, r DeviceRefund) (*RefundInstruction, error) {
	if err := r.valid(); err != nil {
		return nil, err
	}
	h := Header{"content-type": "application/json", "accept": "application/json", "idempotency-key": r.key}
	res, err := c.call(ctx, "POST", "/devices/"+url.PathEscape(r.serialNumber)+"/refund-instructions", h, r.json)
	if err != nil {
		return nil, err
	}
	inst, err := decodeInstruction(res)
	if err != nil {
		return nil, err
	}
	inst.IdempotencyKey = r.key
	return inst, nil
}

func decodeInstruction(res *Response) (*RefundInstruction, error) {
	inst, err := decode[RefundInstruction](res)
	if err != nil {
		return nil, err
	}
	if inst.RefundInstructionID == "" || inst.Status == "" {
		return nil, &Error{Status: res.StatusCode, Code: CodeInternalError, Title: TitleForCode(CodeInternalError),
			Detail: "the answer is not a refund instruction"}
	}
	if inst.Status == StatusCompleted {
		inst.RefundID = RefundIDFromLink(inst.Link)
	}
	return inst, nil
}

// Instruction reads an instruction once (GET /refund-instructions/{id}). While it is inProgress the gateway
// holds this request open up to about a minute, answering as soon as the status changes: it is one long-poll,
// bounded by PollTimeout. Network errors and 5xx are retried per Retry.
func (c *Client) Instruction(ctx context.Context, refundInstructionID string) (*RefundInstruction, error) {
	if err := validateID("refundInstructionId", refundInstructionID); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.pollTimeout())
	defer cancel()
	return c.instruction(ctx, refundInstructionID, true)
}

func (c *Client) instruction(ctx context.Context, id string, retry bool) (*RefundInstruction, error) {
	path := "/refund-instructions/" + url.PathEscape(id)
	h := Header{"accept": "application/json"}
	var res *Response
	var err error
	if retry {
		res, err = c.call(ctx, "GET", path, h, nil)
	} else {
		res, err = c.Do(ctx, "GET", path, h, nil)
		if err == nil && (res.StatusCode < 200 || res.StatusCode > 299) {
			err = ParseProblem(res.StatusCode, res.Header, res.Body)
		}
	}
	if err != nil {
		return nil, err
	}
	return decodeInstruction(res)
}

// Refund retrieves a refund (GET /refunds/{refundId}); the id comes from a completed instruction's RefundID.
func (c *Client) Refund(ctx context.Context, refundID string) (*Refund, error) {
	if err := validateID("refundId", refundID); err != nil {
		return nil, err
	}
	res, err := c.call(ctx, "GET", "/refunds/"+url.PathEscape(refundID), Header{"accept": "application/json"}, nil)
	if err != nil {
		return nil, err
	}
	return decode[Refund](res)
}

// Cancel asks the device to abandon an instruction (DELETE /refund-instructions/{id}) and returns the
// instruction as it now stands: canceled when the cancel won; completed, with RefundID, when the device
// finished first (Payroc's 409 carries the refund link); failure (or canceled) when it had already ended.
// Only errors that leave the outcome unknown (network, auth, not found) are returned as errors.
func (c *Client) Cancel(ctx context.Context, refundInstructionID string) (*RefundInstruction, error) {
	if err := validateID("refundInstructionId", refundInstructionID); err != nil {
		return nil, err
	}
	_, err := c.call(ctx, "DELETE", "/refund-instructions/"+url.PathEscape(refundInstructionID), Header{"accept": "application/json"}, nil)
	if err == nil {
		return &RefundInstruction{RefundInstructionID: refundInstructionID, Status: StatusCanceled}, nil
	}
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeCannotBeCanceled {
		return nil, err
	}
	if id := RefundIDFromLink(e.Link); id != "" {
		return &RefundInstruction{RefundInstructionID: refundInstructionID, Status: StatusCompleted, Link: e.Link, RefundID: id}, nil
	}
	// Already failed or canceled: the instruction is final, so this GET is answered at once.
	return c.Instruction(ctx, refundInstructionID)
}

// Watch follows an instruction until it is completed, failed or canceled, and returns it. Each GET is a
// long-poll; the next is sent only after an answer and only while the status is inProgress. onStatus (may be
// nil) sees the first status and then each change, once, in order, ending with the final one. Network errors
// and 5xx are ridden out with backoff until ctx ends; errors that will not mend (404, 401…) end the watch.
// A final status is a result, not an error.
func (c *Client) Watch(ctx context.Context, refundInstructionID string, onStatus func(*RefundInstruction)) (*RefundInstruction, error) {
	if err := validateID("refundInstructionId", refundInstructionID); err != nil {
		return nil, err
	}
	return c.watch(ctx, refundInstructionID, "", onStatus)
}

// watch is Watch that does not report the status last (already reported by the caller).
func (c *Client) watch(ctx context.Context, id string, last Status, onStatus func(*RefundInstruction)) (*RefundInstruction, error) {
	failures := 0
	for {
		start := time.Now()
		pctx, cancel := context.WithTimeout(ctx, c.pollTimeout())
		inst, err := c.instruction(pctx, id, false)
		timedOut := pctx.Err() != nil && ctx.Err() == nil
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			e := AsError(err)
			if !timedOut && !e.Retryable() {
				return nil, e
			}
			failures++
			if err := sleep(ctx, c.Retry.Backoff(min(failures, 6), e.RetryAfter)); err != nil {
				return nil, err
			}
			continue
		}
		failures = 0
		if inst.Status != last {
			last = inst.Status
			if onStatus != nil {
				onStatus(inst)
			}
		}
		if inst.Status.Final() {
			return inst, nil
		}
		if early := c.minPoll() - time.Since(start); early > 0 {
			if err := sleep(ctx, early); err != nil {
				return nil, err
			}
		}
	}
}

// RunOptions tune RunRefund.
type RunOptions struct {
	// RefundInstructionID, when known from an earlier run, is watched first; the request is submitted again
	// (with the same key, which the gateway replays) only if the instruction is unknown (404).
	RefundInstructionID string
	// NoResubmit, with RefundInstructionID, watches that instruction and never submits: its 404 is returned
	// as it is. For a refund recorded long ago, whose key the gateway may have forgotten, so that a resubmit
	// could be a new refund.
	NoResubmit bool
	// OnStatus sees the submit's own inProgress first, then each change once, ending with the final status.
	// Its first call carries the instruction id: record it then. A resubmit that answers another instruction
	// id is a change too, even with the same status: record and cancel that id from then on.
	OnStatus func(*RefundInstruction)
}

// RunRefund runs a whole refund: submit (or resume), watch until final, retrieve the refund when completed,
// and say what it came to. A declined, failed or canceled refund is a result, not an error.
//
// When the instruction being watched turns unknown (404: a proxy restarted and forgot it, or a resumed id
// is gone), the request is submitted once more with the same key; the gateway replays the original
// instruction rather than making a second refund. A second 404 is returned as an error.
func (c *Client) RunRefund(ctx context.Context, r DeviceRefund, opts RunOptions) (*RefundResult, error) {
	if err := r.valid(); err != nil {
		return nil, err
	}
	if opts.NoResubmit && opts.RefundInstructionID == "" {
		return nil, NewError(CodeInvalidRequest, "NoResubmit needs the RefundInstructionID to watch")
	}
	key := r.key
	var last Status
	lastID := opts.RefundInstructionID
	report := func(inst *RefundInstruction) {
		inst.IdempotencyKey = key
		// A replayed submit answers the status already reported: nothing new, unless it names another
		// instruction, which is then the one to watch, cancel and record.
		if inst.Status == last && inst.RefundInstructionID == lastID {
			return
		}
		last, lastID = inst.Status, inst.RefundInstructionID
		if opts.OnStatus != nil {
			opts.OnStatus(inst)
		}
	}
	id := opts.RefundInstructionID
	resubmitted := false
	for {
		if id == "" {
			sub, err := c.Submit(ctx, r)
			if err != nil {
				return nil, err
			}
			report(sub)
			if sub.Status.Final() {
				return c.result(ctx, sub)
			}
			id = sub.RefundInstructionID
		}
		inst, err := c.watch(ctx, id, last, report)
		switch {
		case err == nil:
			inst.IdempotencyKey = key
			return c.result(ctx, inst)
		case errors.Is(err, ErrNotFound) && !resubmitted && !opts.NoResubmit:
			id, resubmitted = "", true
		default:
			return nil, err
		}
	}
}

// result maps a final instruction to its outcome, retrieving the refund when completed.
func (c *Client) result(ctx context.Context, inst *RefundInstruction) (*RefundResult, error) {
	r := &RefundResult{Instruction: inst}
	switch inst.Status {
	case StatusFailure:
		r.Outcome = OutcomeFailed
	case StatusCanceled:
		r.Outcome = OutcomeCanceled
	case StatusCompleted:
		if inst.RefundID == "" {
			return nil, NewError(CodeInternalError, "the completed instruction has no refund link")
		}
		ref, err := c.Refund(ctx, inst.RefundID)
		if err != nil {
			return nil, err
		}
		r.Refund = ref
		r.Outcome = OutcomeOf(ref)
	default:
		return nil, NewError(CodeInternalError, "the instruction is not final: "+string(inst.Status))
	}
	return r, nil
}

// OutcomeOf says whether a retrieved refund was approved: responseCode A is approved, anything else declined.
func OutcomeOf(r *Refund) Outcome {
	if r != nil && r.TransactionResult.ResponseCode == "A" {
		return OutcomeApproved
	}
	return OutcomeDeclined
}
