package payroc

import "strings"

// MaxRequestBytes bounds a refund instruction body; real ones are well under 4 KiB.
const MaxRequestBytes = 64 << 10

// Status is a refund instruction's DeviceInstructionStatus.
type Status string

// The four instruction statuses, spelled as Payroc spells them.
const (
	StatusInProgress Status = "inProgress"
	StatusCompleted  Status = "completed"
	StatusFailure    Status = "failure"
	StatusCanceled   Status = "canceled"
)

// Final reports whether s is an end state: nothing changes after it.
func (s Status) Final() bool {
	return s == StatusCompleted || s == StatusFailure || s == StatusCanceled
}

// RefundInstructionRequest is the body of POST /devices/{serialNumber}/refund-instructions.
type RefundInstructionRequest struct {
	ProcessingTerminalID string                `json:"processingTerminalId"`
	Order                RefundOrder           `json:"order"`
	Operator             string                `json:"operator,omitempty"`
	Customer             *Customer             `json:"customer,omitempty"`
	IPAddress            *IPAddress            `json:"ipAddress,omitempty"`
	CustomizationOptions *CustomizationOptions `json:"customizationOptions,omitempty"`
}

// RefundOrder is the order of a refund instruction. Amount is in the currency's minor units (4999 = 49.99).
// The gateway sets dateTime; it is never sent.
type RefundOrder struct {
	OrderID     string `json:"orderId"`
	Description string `json:"description"`
	Amount      int64  `json:"amount"`
	Currency    string `json:"currency"`
}

// Customer holds the optional customer details of a refund instruction.
type Customer struct {
	FirstName            string           `json:"firstName,omitempty"`
	LastName             string           `json:"lastName,omitempty"`
	DateOfBirth          string           `json:"dateOfBirth,omitempty"` // YYYY-MM-DD
	ReferenceNumber      string           `json:"referenceNumber,omitempty"`
	BillingAddress       *Address         `json:"billingAddress,omitempty"`
	ShippingAddress      *ShippingAddress `json:"shippingAddress,omitempty"`
	ContactMethods       []ContactMethod  `json:"contactMethods,omitempty"`
	NotificationLanguage string           `json:"notificationLanguage,omitempty"` // en | fr
}

// Address is a postal address. In a request address1, city, state, country and postalCode are required; in a
// retrieved refund every field is optional.
type Address struct {
	Address1   string `json:"address1,omitempty"`
	Address2   string `json:"address2,omitempty"`
	Address3   string `json:"address3,omitempty"`
	City       string `json:"city,omitempty"`
	State      string `json:"state,omitempty"`
	Country    string `json:"country,omitempty"` // ISO 3166-1 alpha-2
	PostalCode string `json:"postalCode,omitempty"`
}

// ShippingAddress is where goods were sent.
type ShippingAddress struct {
	RecipientName string   `json:"recipientName,omitempty"`
	Address       *Address `json:"address,omitempty"`
}

// ContactMethod is one way to reach the customer: type email, phone, mobile or fax.
type ContactMethod struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

// IPAddress is the address of the device that sent the request: type ipv4 or ipv6.
type IPAddress struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

// CustomizationOptions tune how the device runs the instruction.
type CustomizationOptions struct {
	EntryMethod       string             `json:"entryMethod,omitempty"` // deviceRead | manualEntry | deviceReadOrManualEntry
	EBTDetails        *EBTDetails        `json:"ebtDetails,omitempty"`
	ClosedLoopOptions *ClosedLoopOptions `json:"closedLoopOptions,omitempty"`
}

// EBTDetails describe an Electronic Benefit Transfer refund.
type EBTDetails struct {
	BenefitCategory string `json:"benefitCategory"` // cash | foodStamp
	Withdrawal      *bool  `json:"withdrawal,omitempty"`
}

// ClosedLoopOptions name the closed-loop card type the merchant accepts (only "mifare").
type ClosedLoopOptions struct {
	Type string `json:"type"`
}

// Link is a HATEOAS link. Compare Method case-insensitively: Payroc writes both GET and get.
type Link struct {
	Rel    string `json:"rel"`
	Method string `json:"method"`
	Href   string `json:"href"`
}

// RefundInstruction is Payroc's refund instruction (the answer to submit and to each status GET), plus two
// fields of this package's own: RefundID, taken from link.href once completed (Payroc has no such field), and
// IdempotencyKey, the key the instruction was submitted with when known. Neither is ever sent to Payroc.
type RefundInstruction struct {
	RefundInstructionID string `json:"refundInstructionId"`
	Status              Status `json:"status"`
	ErrorMessage        string `json:"errorMessage,omitempty"`
	Link                *Link  `json:"link,omitempty"`

	RefundID       string `json:"refundId,omitempty"`
	IdempotencyKey string `json:"idempotencyKey,omitempty"`
}

// RefundIDFromLink returns the refund id a completed instruction (or a 409 cannot-be-canceled problem) links
// to: the last path segment of a rel=refund link's href, or "".
func RefundIDFromLink(l *Link) string {
	if l == nil || !strings.EqualFold(l.Rel, "refund") {
		return ""
	}
	href := l.Href
	if i := strings.IndexAny(href, "?#"); i >= 0 {
		href = href[:i]
	}
	href = strings.TrimRight(href, "/")
	i := strings.LastIndexByte(href, '/')
	if i < 0 || i == len(href)-1 {
		return ""
	}
	return href[i+1:]
}

// Refund is a retrieved refund (GET /refunds/{refundId}).
type Refund struct {
	RefundID             string            `json:"refundId"`
	ProcessingTerminalID string            `json:"processingTerminalId"`
	Operator             string            `json:"operator,omitempty"`
	Order                RetrievedOrder    `json:"order"`
	Customer             *Customer         `json:"customer,omitempty"`
	Card                 Card              `json:"card"`
	Payment              *PaymentSummary   `json:"payment,omitempty"`
	SupportedOperations  []string          `json:"supportedOperations,omitempty"`
	TransactionResult    TransactionResult `json:"transactionResult"`
	CustomFields         []CustomField     `json:"customFields,omitempty"`
}

// RetrievedOrder is the order of a retrieved refund; DateTime is set by the gateway (RFC 3339).
type RetrievedOrder struct {
	OrderID     string    `json:"orderId"`
	DateTime    string    `json:"dateTime,omitempty"`
	Description string    `json:"description,omitempty"`
	Amount      int64     `json:"amount"`
	Currency    string    `json:"currency"`
	DCCOffer    *DCCOffer `json:"dccOffer,omitempty"`
}

// DCCOffer is a dynamic currency conversion offer.
type DCCOffer struct {
	Accepted           *bool   `json:"accepted,omitempty"`
	OfferReference     string  `json:"offerReference,omitempty"`
	FxAmount           int64   `json:"fxAmount"`
	FxCurrency         string  `json:"fxCurrency"`
	FxCurrencyCode     string  `json:"fxCurrencyCode,omitempty"`
	FxCurrencyExponent *int    `json:"fxCurrencyExponent,omitempty"`
	FxRate             float64 `json:"fxRate"`
	Markup             float64 `json:"markup"`
	MarkupText         string  `json:"markupText,omitempty"`
	Provider           string  `json:"provider,omitempty"`
	Source             string  `json:"source,omitempty"`
}

// Card is the card the device read. CardNumber is masked (first six, last four).
type Card struct {
	Type                string          `json:"type"`
	EntryMethod         string          `json:"entryMethod,omitempty"` // icc | keyed | swiped | swipedFallback | contactlessIcc | contactlessMsr
	CardholderName      string          `json:"cardholderName,omitempty"`
	CardholderSignature string          `json:"cardholderSignature,omitempty"`
	CardNumber          string          `json:"cardNumber"`
	ExpiryDate          string          `json:"expiryDate"` // MMYY
	SecureToken         *SecureToken    `json:"secureToken,omitempty"`
	SecurityChecks      *SecurityChecks `json:"securityChecks,omitempty"`
	EMVTags             []EMVTag        `json:"emvTags,omitempty"`
	Balances            []Balance       `json:"balances,omitempty"`
}

// SecureToken is a saved card token.
type SecureToken struct {
	SecureTokenID string `json:"secureTokenId"`
	CustomerName  string `json:"customerName"`
	Token         string `json:"token"`
	Status        string `json:"status"`
	Link          *Link  `json:"link,omitempty"`
}

// SecurityChecks are the CVV and AVS results.
type SecurityChecks struct {
	CVVResult string `json:"cvvResult,omitempty"`
	AVSResult string `json:"avsResult,omitempty"`
}

// EMVTag is one EMV tag the device read.
type EMVTag struct {
	Hex   string `json:"hex"`
	Value string `json:"value"`
}

// Balance is an EBT balance.
type Balance struct {
	BenefitCategory string `json:"benefitCategory"`
	Amount          int64  `json:"amount"`
	Currency        string `json:"currency"`
}

// PaymentSummary applies to referenced refunds only.
type PaymentSummary struct {
	PaymentID       string `json:"paymentId"`
	DateTime        string `json:"dateTime"`
	Currency        string `json:"currency"`
	Amount          int64  `json:"amount"`
	Status          string `json:"status"`
	ResponseCode    string `json:"responseCode"`
	ResponseMessage string `json:"responseMessage,omitempty"`
	Link            *Link  `json:"link,omitempty"`
}

// TransactionResult is the processor's answer. Approved means ResponseCode "A" (with Status "ready" or
// "complete"); a completed instruction is not by itself an approval. AuthorizedAmount is negative for a refund.
type TransactionResult struct {
	Type                  string `json:"type,omitempty"`
	EBTType               string `json:"ebtType,omitempty"`
	Status                string `json:"status"`
	ApprovalCode          string `json:"approvalCode,omitempty"`
	AuthorizedAmount      *int64 `json:"authorizedAmount,omitempty"`
	Currency              string `json:"currency,omitempty"`
	ResponseCode          string `json:"responseCode"`
	ResponseMessage       string `json:"responseMessage,omitempty"`
	ProcessorResponseCode string `json:"processorResponseCode,omitempty"`
	CardSchemeReferenceID string `json:"cardSchemeReferenceId,omitempty"`
	HealthcareIndicator   string `json:"healthcareIndicator,omitempty"`
}

// CustomField is a merchant-defined name/value pair.
type CustomField struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Outcome is what a finished refund came to, from the cashier's point of view.
type Outcome string

// The four outcomes of a refund.
const (
	OutcomeApproved Outcome = "approved" // completed, responseCode A
	OutcomeDeclined Outcome = "declined" // completed, any other responseCode
	OutcomeFailed   Outcome = "failed"   // the instruction ended in failure
	OutcomeCanceled Outcome = "canceled" // the instruction was canceled
)

// RefundResult is the end of a whole refund flow. Refund is set when the instruction completed.
type RefundResult struct {
	Outcome     Outcome            `json:"outcome"`
	Instruction *RefundInstruction `json:"instruction"`
	Refund      *Refund            `json:"refund"`
}
