package strict

import (
	stdjson "encoding/json"
	"errors"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/payroc"
)

const minimal = `{"processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","amount":4999,"currency":"USD"}}`

// full names every field of the request at least once.
const full = `{"processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"Refund <ORDER-1001> & co","amount":4999,"currency":"USD"},"operator":"cashier-1",` +
	`"customer":{"firstName":"A","lastName":"B","dateOfBirth":"1990-01-02","referenceNumber":"R1","contactMethods":[{"type":"phone","value":"1"},{"type":"email","value":"a@b"}],` +
	`"billingAddress":{"address1":"1 Main St","address2":"Unit 2","address3":"x","city":"X","state":"Y","country":"US","postalCode":"1"},` +
	`"shippingAddress":{"recipientName":"C","address":{"address1":"2 Main St","city":"X","state":"Y","country":"US","postalCode":"2"}},"notificationLanguage":"fr"},` +
	`"ipAddress":{"type":"ipv4","value":"1.2.3.4"},` +
	`"customizationOptions":{"entryMethod":"deviceRead","ebtDetails":{"benefitCategory":"cash","withdrawal":true},"closedLoopOptions":{"type":"mifare"}}}`

// fieldOf decodes body and returns the parameter its refusal names ("" when it was accepted).
func fieldOf(t *testing.T, body string) string {
	t.Helper()
	r, err := DecodeRefundInstructionRequest([]byte(body))
	if err == nil {
		require.NotNil(t, r, "an accepted body must give a request")
		return ""
	}
	e, ok := errors.AsType[*payroc.Error](err)
	require.True(t, ok, "the error must be a *payroc.Error, got %T %v", err, err)
	require.Equal(t, payroc.CodeInvalidRequest, e.Code)
	require.NotEmpty(t, e.Errors, "an invalid-request must name the fields at fault")
	return e.Errors[0].Parameter
}

func TestDecodeRefundInstructionRequest(t *testing.T) {
	for _, tt := range []struct{ name, body, field string }{ // field "" means accepted
		{"minimal", minimal, ""},
		{"every field", full, ""},
		{"spacing and a trailing newline", " " + minimal + "\n", ""},
		{"null customer", `{"processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","amount":4999,"currency":"USD"},"customer":null}`, ""},
		{"escaped text", `{"processingTerminalId":"1234001","operator":"a\"b\\","order":{"orderId":"ORDER-1001","description":"\u00e9","amount":4999,"currency":"USD"}}`, ""},
		{"decimal amount", `{"processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","amount":49.99,"currency":"USD"}}`, "order.amount"},
		{"exponent amount", `{"processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","amount":12e2,"currency":"USD"}}`, "order.amount"},
		{"huge amount", `{"processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","amount":1e400,"currency":"USD"}}`, "order.amount"},
		{"string amount", `{"processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","amount":"4999","currency":"USD"}}`, "order.amount"},
		{"number terminal", `{"processingTerminalId":1234001,"order":{"orderId":"ORDER-1001","description":"d","amount":4999,"currency":"USD"}}`, "processingTerminalId"},
		{"array order", `{"processingTerminalId":"1234001","order":[]}`, "order"},
		{"string in an array of objects", `{"processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","amount":4999,"currency":"USD"},"customer":{"contactMethods":["x"]}}`, "customer.contactMethods[0]"},
		{"unknown field", `{"processingTerminalId":"1234001","surprise":1,"order":{"orderId":"ORDER-1001","description":"d","amount":4999,"currency":"USD"}}`, "surprise"},
		{"dateTime is read-only", `{"processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","amount":4999,"currency":"USD","dateTime":"2024-07-02T15:30:00Z"}}`, "order.dateTime"},
		{"unknown field in an array item", `{"processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","amount":4999,"currency":"USD"},"customer":{"contactMethods":[{"type":"email","Value":"2"}]}}`, "customer.contactMethods[0].Value"},
		{"empty member name", `{"processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","amount":4999,"currency":"USD"},"":1}`, "body"},
		{"empty member name in order", `{"processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","amount":4999,"currency":"USD","":1}}`, "order"},
		{"two objects", minimal + ` {}`, "body"},
		{"trailing text", minimal + ` x`, "body"},
		{"trailing comma", `{"processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","amount":4999,"currency":"USD"},}`, "body"},
		{"cut short", minimal[:len(minimal)-1], "body"},
		{"not json", `amount=4999`, "body"},
		{"empty", ``, "body"},
		{"only space", " \n", "body"},
		{"array", `[]`, "body"},
		{"null", `null`, "body"},
		{"too large", `{"operator":"` + string(make([]byte, payroc.MaxRequestBytes)) + `"}`, "body"},
		{"validation after decoding", `{"processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","amount":0,"currency":"USD"}}`, "order.amount"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.field, fieldOf(t, tt.body))
		})
	}
}

// A body that another JSON reader could read differently is refused, naming where.
func TestDecodeRefusesAmbiguousBodies(t *testing.T) {
	for _, tt := range []struct{ name, body, field string }{
		{"duplicate amount", `{"processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","amount":99999999,"currency":"USD","amount":4999}}`, "order.amount"},
		{"duplicate order", `{"processingTerminalId":"1234001","order":{"orderId":"A","description":"d","amount":1,"currency":"USD"},"order":{"orderId":"B","description":"d","amount":2,"currency":"USD"}}`, "order"},
		{"duplicate spelled with an escape", `{"processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","amount":4999,"currency":"USD","\u0061mount":5}}`, "order.amount"},
		{"other-case name", `{"processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","AMOUNT":4999,"currency":"USD","amount":5}}`, "order.AMOUNT"},
		{"other-case name alone", `{"processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","Amount":4999,"currency":"USD"}}`, "order.Amount"},
		{"Unicode case fold", `{"processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","amount":4999,"currency":"USD"},"ſustomer":{}}`, "ſustomer"},
		{"duplicate inside an array item", `{"processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","amount":4999,"currency":"USD"},"customer":{"contactMethods":[{"type":"phone","value":"1"},{"type":"email","type":"phone","value":"2"}]}}`, "customer.contactMethods[1].type"},
		{"invalid UTF-8", "{\"processingTerminalId\":\"1234001\",\"operator\":\"\xff\",\"order\":{\"orderId\":\"ORDER-1001\",\"description\":\"d\",\"amount\":4999,\"currency\":\"USD\"}}", "body"},
		{"invalid UTF-8 in a name", "{\"processingTerminalId\":\"1234001\",\"\xffx\":1}", "body"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.field, fieldOf(t, tt.body))
		})
	}
	ok := `{"processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","amount":4999,"currency":"USD"},"customer":{"contactMethods":[{"type":"phone","value":"1"},{"type":"email","value":"a@b"}]}}`
	assert.Empty(t, fieldOf(t, ok), "the same names in separate objects are no duplicates")
}

// The proxy's encoding of what it checked is encoding/json's, byte for byte, and reads back the same.
func TestEncodeIsEncodingJSONs(t *testing.T) {
	for _, body := range []string{minimal, full,
		`{"processingTerminalId":"1234001","order":{"orderId":"O<1>","description":"d\u2028&","amount":4999,"currency":"USD"},"customer":{},"customizationOptions":{"ebtDetails":{"benefitCategory":"cash","withdrawal":false}}}`,
	} {
		r, err := DecodeRefundInstructionRequest([]byte(body))
		require.NoError(t, err, body)
		encodeAgrees(t, r)
	}
}

func encodeAgrees(t *testing.T, r *payroc.RefundInstructionRequest) {
	t.Helper()
	want, err := stdjson.Marshal(r)
	require.NoError(t, err)
	got, err := Encode(r)
	require.NoError(t, err)
	require.Equal(t, string(want), string(got), "Encode must write what encoding/json writes")
	back, err := DecodeRefundInstructionRequest(got)
	require.NoError(t, err, "the encoding must decode strictly")
	require.Equal(t, r, back, "the encoding must read back as the same request")
}

// FuzzDecodeRefundInstructionRequest: never panics; every refusal is an invalid-request naming fields; and
// whatever is accepted (1) is valid, (2) reads the same with encoding/json, the lenient reader (so no
// duplicate, other-case or unknown member slipped through), and (3) is sent upstream as encoding/json
// would write it.
func FuzzDecodeRefundInstructionRequest(f *testing.F) {
	for _, b := range []string{minimal, full, `null`, `{"processingTerminalId":"1234001","order":{"amount":1e400}}`,
		`{"processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","amount":4999,"currency":"USD","amount":5}}`,
		`{"processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","AMOUNT":4999,"currency":"USD"}}`,
		"{\"processingTerminalId\":\"1234001\",\"operator\":\"\xff\"}",
	} {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := DecodeRefundInstructionRequest(body)
		if err != nil {
			e, ok := errors.AsType[*payroc.Error](err)
			require.True(t, ok, "error %T is not a *payroc.Error", err)
			require.Equal(t, payroc.CodeInvalidRequest, e.Code)
			require.NotEmpty(t, e.Errors)
			return
		}
		require.NoError(t, r.Validate(), "accepted an invalid request")
		var lenient payroc.RefundInstructionRequest
		require.NoError(t, stdjson.Unmarshal(body, &lenient), "encoding/json refuses what was accepted")
		require.Equal(t, *r, lenient, "encoding/json reads the accepted body otherwise")
		encodeAgrees(t, r)
	})
}

// FuzzDecodeRefusesAnExtraOrderMember: an order object with one more member than its four, whatever its
// name (a duplicate, another case, an escape, anything), is refused, so no second amount or currency can
// ride along.
func FuzzDecodeRefusesAnExtraOrderMember(f *testing.F) {
	for _, name := range []string{"amount", "AMOUNT", "Amount", "currency", "ORDERID", "\u0061mount", "dateTime", "", "amount\u0000"} {
		f.Add(name, int64(100000), true)
		f.Add(name, int64(5), false)
	}
	f.Fuzz(func(t *testing.T, name string, amount int64, first bool) {
		quoted, err := stdjson.Marshal(name)
		require.NoError(t, err)
		extra := string(quoted) + ":" + strconv.FormatInt(amount, 10)
		order := `"orderId":"ORDER-1001","description":"d","amount":4999,"currency":"USD"`
		if first {
			order = extra + "," + order
		} else {
			order += "," + extra
		}
		body := `{"processingTerminalId":"1234001","order":{` + order + `}}`
		_, err = DecodeRefundInstructionRequest([]byte(body))
		require.Error(t, err, "a body with an extra order member %s was accepted", quoted)
	})
}

func BenchmarkDecodeRefundInstructionRequest(b *testing.B) {
	body := []byte(` {"processingTerminalId" : "1234001" ,"order":{"orderId":"ORDER-1001","description":"d","amount":4999,"currency":"USD"},"operator":"cashier-1"} `)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeRefundInstructionRequest(body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncode(b *testing.B) {
	r, err := DecodeRefundInstructionRequest([]byte(minimal))
	require.NoError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Encode(r); err != nil {
			b.Fatal(err)
		}
	}
}
