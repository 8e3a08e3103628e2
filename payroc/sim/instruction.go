package sim

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/posrefund/cloud/payroc"
)

// outcome is what a simulated device does with an instruction, chosen by order.amount % 100.
type outcome int

const (
	outcomeApproved    outcome = iota // anything else: approved after Delay
	outcomeDeclined                   // 1: completed after Delay, the issuer declined (D)
	outcomeFailure                    // 2: failure after Delay, with an errorMessage
	outcomeNoCard                     // 3: inProgress until canceled; failure after Timeout
	outcomeSlow                       // 4: approved only after more than one long-poll hold
	outcomeCancelLoses                // 5: completes (approved) the moment a DELETE arrives; failure after Timeout
)

func outcomeFor(amount int64) outcome {
	switch amount % 100 {
	case 1:
		return outcomeDeclined
	case 2:
		return outcomeFailure
	case 3:
		return outcomeNoCard
	case 4:
		return outcomeSlow
	case 5:
		return outcomeCancelLoses
	}
	return outcomeApproved
}

func (o outcome) String() string {
	return [...]string{"approved", "declined", "failure", "no-card", "slow", "cancel-loses"}[o]
}

// Device error texts (errorMessage of a failed instruction).
const (
	msgDeviceError = "Device error: the card reader stopped responding"
	msgTimedOut    = "No card was presented before the instruction timed out"
	msgForced      = "The instruction was ended by the simulator's test controls"
)

// instruction is one refund instruction and its device's state. Guarded by Simulator.mu.
type instruction struct {
	id       string
	key      string // idempotency key, lower case
	canon    []byte // the parsed request and device, for the replay rule
	serial   string
	req      *payroc.RefundInstructionRequest
	outcome  outcome
	status   payroc.Status
	errMsg   string
	refund   *payroc.Refund
	created  time.Time
	finished time.Time
	changed  chan struct{} // closed (and replaced) on every status change: wakes held long-polls

	timer        *time.Timer
	gen          int  // bumped whenever the timer is replaced or stopped; stale callbacks see a new gen
	waiters      int  // long-polls held on it now
	holdsExpired int  // long-polls that ran out their hold while it was inProgress
	due          bool // outcome 4: its time has come, but a long-poll is still in its first hold
	held         bool // HoldNext: no device timer; only Finish, a DELETE or Close ends it
}

// instView is a copy of what an answer needs, taken under the lock.
type instView struct {
	id, refundID, errMsg string
	status               payroc.Status
}

func (in *instruction) view() instView {
	v := instView{id: in.id, status: in.status, errMsg: in.errMsg}
	if in.refund != nil {
		v.refundID = in.refund.RefundID
	}
	return v
}

// wire is the instruction as Payroc sends it: a self link while inProgress, on failure and canceled; a refund
// link when completed; errorMessage only on failure.
func (v instView) wire(origin string) *payroc.RefundInstruction {
	ri := &payroc.RefundInstruction{RefundInstructionID: v.id, Status: v.status}
	if v.status == payroc.StatusCompleted {
		ri.Link = &payroc.Link{Rel: "refund", Method: "GET", Href: origin + "/v1/refunds/" + v.refundID}
	} else {
		ri.Link = &payroc.Link{Rel: "self", Method: "GET", Href: origin + "/v1/refund-instructions/" + v.id}
	}
	if v.status == payroc.StatusFailure {
		ri.ErrorMessage = v.errMsg
	}
	return ri
}

// createLocked stores a new instruction and starts its device, unless a HoldNext keeps it in progress.
func (s *Simulator) createLocked(key string, canon []byte, dev Device, req *payroc.RefundInstructionRequest, now time.Time) *instruction {
	id := newInstructionID()
	for s.insts[id] != nil {
		id = newInstructionID()
	}
	in := &instruction{
		id:      id,
		key:     key,
		canon:   canon,
		serial:  dev.SerialNumber,
		req:     req,
		outcome: outcomeFor(req.Order.Amount),
		status:  payroc.StatusInProgress,
		created: now,
		changed: make(chan struct{}),
	}
	s.insts[in.id] = in
	s.byKey[key] = in
	s.ctl.instructionsCreated++
	s.ctl.instructionsByKey[key]++
	if s.takeHoldLocked(dev.SerialNumber) {
		in.held = true
		return in
	}
	switch in.outcome {
	case outcomeNoCard, outcomeCancelLoses:
		s.armLocked(in, s.cfg.Timeout, func() { s.finishLocked(in, payroc.StatusFailure, msgTimedOut) })
	case outcomeFailure:
		s.armLocked(in, s.cfg.Delay, func() { s.finishLocked(in, payroc.StatusFailure, msgDeviceError) })
	case outcomeDeclined:
		s.armLocked(in, s.cfg.Delay, func() { s.completeLocked(in, false) })
	case outcomeSlow:
		s.armLocked(in, s.cfg.Hold+s.cfg.Delay, func() { s.slowDueLocked(in) })
	default:
		s.armLocked(in, s.cfg.Delay, func() { s.completeLocked(in, true) })
	}
	return in
}

// armLocked replaces the instruction's timer: after d, fn runs under the lock if the instruction is still
// inProgress, this timer was not replaced or stopped since, and the simulator is open.
func (s *Simulator) armLocked(in *instruction, d time.Duration, fn func()) {
	in.stopTimer()
	gen := in.gen
	in.timer = time.AfterFunc(d, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.closed || in.gen != gen || in.status != payroc.StatusInProgress {
			return
		}
		fn()
	})
}

func (in *instruction) stopTimer() {
	in.gen++
	if in.timer != nil {
		in.timer.Stop()
		in.timer = nil
	}
}

// Outcome 4 ("approved only after more than one long-poll hold"): completion is due Hold+Delay after the
// submit, but never inside a long-poll's first hold: a client that polls right away always gets one
// unchanged inProgress answer and must poll again. Delay after the first hold runs out, it completes.

func (s *Simulator) slowDueLocked(in *instruction) {
	in.due = true
	if in.holdsExpired > 0 || in.waiters == 0 {
		s.completeLocked(in, true)
	}
}

// holdExpiredLocked: a long-poll on in answered unchanged.
func (s *Simulator) holdExpiredLocked(in *instruction) {
	in.holdsExpired++
	if in.outcome == outcomeSlow && in.holdsExpired == 1 && !in.held && !s.closed {
		s.armLocked(in, s.cfg.Delay, func() { s.completeLocked(in, true) })
	}
}

// waiterLeftLocked: a long-poll on in ended other than by its hold running out.
func (s *Simulator) waiterLeftLocked(in *instruction) {
	if in.outcome == outcomeSlow && in.due && in.waiters == 0 && in.holdsExpired == 0 &&
		in.status == payroc.StatusInProgress && !s.closed {
		s.completeLocked(in, true)
	}
}

// completeLocked ends in as completed with its refund.
func (s *Simulator) completeLocked(in *instruction, approved bool) {
	now := s.now()
	in.refund = buildRefund(in, approved, now)
	for s.refunds[in.refund.RefundID] != nil { // 50 random bits: a clash is all but impossible, still never reuse
		in.refund.RefundID = newRefundID()
	}
	s.refunds[in.refund.RefundID] = in
	s.ctl.refundsCreated++
	s.ctl.refundsByKey[in.key]++
	s.finishLocked(in, payroc.StatusCompleted, "")
}

// finishLocked moves in to a final status and wakes its long-polls.
func (s *Simulator) finishLocked(in *instruction, st payroc.Status, errMsg string) {
	in.stopTimer()
	in.status = st
	in.errMsg = errMsg
	in.finished = s.now()
	s.finished = append(s.finished, in)
	close(in.changed)
	in.changed = make(chan struct{})
	s.log.Info("payroc sim instruction finished", "refundInstructionId", in.id, "status", string(st))
}

// expireLocked forgets finished instructions (with their refunds and keys) older than Retention.
func (s *Simulator) expireLocked(now time.Time) {
	cut := now.Add(-s.cfg.Retention)
	for len(s.finished) > 0 && !s.finished[0].finished.After(cut) {
		s.forgetOldestLocked()
	}
}

// makeRoomLocked evicts the oldest finished instructions until one more fits; false when all are in progress.
func (s *Simulator) makeRoomLocked() bool {
	for len(s.insts) >= s.cfg.MaxInstructions {
		if len(s.finished) == 0 {
			return false
		}
		s.forgetOldestLocked()
	}
	return true
}

func (s *Simulator) forgetOldestLocked() {
	in := s.finished[0]
	s.finished[0] = nil
	s.finished = s.finished[1:]
	if len(s.finished) == 0 {
		s.finished = nil // let the backing array go
	} else if cap(s.finished) > 64 && len(s.finished) < cap(s.finished)/4 {
		s.finished = append([]*instruction(nil), s.finished...)
	}
	delete(s.insts, in.id)
	if s.byKey[in.key] == in {
		delete(s.byKey, in.key)
	}
	if in.refund != nil {
		delete(s.refunds, in.refund.RefundID)
	}
	delete(s.ctl.instructionsByKey, in.key)
	delete(s.ctl.refundsByKey, in.key)
}

// buildRefund is the retrieved refund of a completed instruction: the order echoed with the gateway's
// dateTime, a masked test card, and the processor's answer (approved A / declined D).
func buildRefund(in *instruction, approved bool, now time.Time) *payroc.Refund {
	req := in.req
	entry := "contactlessIcc"
	if co := req.CustomizationOptions; co != nil && co.EntryMethod == "manualEntry" {
		entry = "keyed"
	}
	tr := payroc.TransactionResult{
		Type:     "refund",
		Currency: req.Order.Currency,
	}
	if approved {
		amt := -req.Order.Amount
		tr.Status, tr.ResponseCode, tr.ResponseMessage = "ready", "A", "APPROVED"
		tr.ApprovalCode = randomDigits(6)
		tr.AuthorizedAmount = &amt
		tr.ProcessorResponseCode = "00"
	} else {
		tr.Status, tr.ResponseCode, tr.ResponseMessage = "declined", "D", "DECLINED"
		tr.ProcessorResponseCode = "05"
	}
	return &payroc.Refund{
		RefundID:             newRefundID(),
		ProcessingTerminalID: req.ProcessingTerminalID,
		Operator:             req.Operator,
		Order: payroc.RetrievedOrder{
			OrderID:     req.Order.OrderID,
			DateTime:    now.UTC().Truncate(time.Second).Format(time.RFC3339),
			Description: req.Order.Description,
			Amount:      req.Order.Amount,
			Currency:    req.Order.Currency,
		},
		Customer: req.Customer,
		Card: payroc.Card{
			Type:        "Visa Credit",
			EntryMethod: entry,
			CardNumber:  "453985******7062",
			ExpiryDate:  fmt.Sprintf("12%02d", (now.Year()+3)%100),
			EMVTags:     emvTags(entry),
		},
		TransactionResult: tr,
	}
}

// Visa Credit's EMV application, as a chip or contactless read reports it (a receipt prints both).
const (
	simAppLabel = "VISA CREDIT"    // tag 50, Application Label
	simAID      = "A0000000031010" // tag 4F, Application Identifier (Visa credit/debit)
)

// emvTags are the EMV tags of a card read from its chip (icc, contactlessIcc): the application label (tag
// 50, its bytes in hex as Payroc sends tag values) and the AID (tag 4F). Keyed and swiped reads have none.
func emvTags(entry string) []payroc.EMVTag {
	if entry != "icc" && entry != "contactlessIcc" {
		return nil
	}
	return []payroc.EMVTag{
		{Hex: "4F", Value: simAID},
		{Hex: "50", Value: strings.ToUpper(hex.EncodeToString([]byte(simAppLabel)))},
		{Hex: "9F36", Value: "0001"},
	}
}

// newInstructionID is 32 lowercase hex digits, like Payroc's.
func newInstructionID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// newRefundID is exactly 10 uppercase letters and digits, like Payroc's (CD3HN88U9F).
func newRefundID() string { return rand.Text()[:10] }

func randomDigits(n int) string {
	b := make([]byte, n)
	for i := range b {
		d, _ := rand.Int(rand.Reader, big.NewInt(10))
		b[i] = byte('0' + d.Int64())
	}
	return string(b)
}
