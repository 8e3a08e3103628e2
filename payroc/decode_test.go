package payroc

import (
	"bytes"
	"reflect"
	"testing"
)

// decodeBodies are bodies on both sides of every check DecodeRefundInstructionRequest makes: the fast path must
// take the ordinary ones and agree with the careful way on all of them.
var decodeBodies = []string{
	`{"processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","amount":4999,"currency":"USD"}}`,
	` {"processingTerminalId" : "1234001" ,"order":{"orderId":"ORDER-1001","description":"d","amount":4999,"currency":"USD"},"operator":"cashier-1"} ` + "\n",
	`{"processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","amount":4999,"currency":"USD"},"customer":{"firstName":"A","contactMethods":[{"type":"phone","value":"1"},{"type":"email","value":"a@b"}],"billingAddress":{"address1":"1 Main St","city":"X","state":"Y","country":"US","postalCode":"1"}},"ipAddress":{"type":"ipv4","value":"1.2.3.4"},"customizationOptions":{"entryMethod":"deviceRead","ebtDetails":{"benefitCategory":"cash","withdrawal":true},"closedLoopOptions":{"type":"mifare"}}}`,
	`{"processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","amount":4999,"currency":"USD"},"customer":null,"ipAddress":null}`,
	`{"processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","amount":4999,"currency":"USD"},"customer":{"contactMethods":[]}}`,
	`{"processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","amount":4999,"currency":"USD","amount":5}}`,
	`{"processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","AMOUNT":4999,"currency":"USD"}}`,
	`{"processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","\u0061mount":4999,"currency":"USD"}}`,
	`{"processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","amount":4999,"currency":"USD"},"":1}`,
	`{"processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","amount":4999,"currency":"USD","dateTime":"x"}}`,
	`{"processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","amount":4999,"currency":"USD"}} {}`,
	`{"processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","amount":4999,"currency":"USD"}} x`,
	`{"processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","amount":49.99,"currency":"USD"}}`,
	`{"processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","amount":1e400,"currency":"USD"}}`,
	`{"processingTerminalId":"1234001","customer":{"contactMethods":[{"type":"email","type":"phone","value":"2"}]}}`,
	`{"processingTerminalId":"1234001","customer":{"contactMethods":[{"type":"email","Value":"2"}]}}`,
	"{\"processingTerminalId\":\"1234001\",\"operator\":\"\xff\"}",
	`{"processingTerminalId":"1234001","operator":"a\"b\\"}`,
	`{"processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","amount":-0,"currency":"USD"}}`,
	`{"processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","amount":0123,"currency":"USD"}}`,
	`{"processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","amount":12e2,"currency":"USD"}}`,
	`{"processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","amount":99999999999999999999,"currency":"USD"}}`,
	`{"processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","amount":4999,"currency":"USD"},"customizationOptions":{"ebtDetails":{"benefitCategory":"cash","withdrawal":tru}}}`,
	`{"processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","amount":4999,"currency":"USD"},"customizationOptions":{"ebtDetails":{"benefitCategory":"cash","withdrawal":false}}}`,
	"{\"processingTerminalId\":\"12\t34001\",\"order\":{\"orderId\":\"ORDER-1001\",\"description\":\"d\",\"amount\":4999,\"currency\":\"USD\"}}",
	`{"processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","amount":4999,"currency":"USD"},"customer":{"contactMethods":[{"type":"phone","value":"1"},]}}`,
	`{"processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","amount":4999,"currency":"USD"},}`,
	`{"processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","amount":4999,"currency":"USD"}`,
	`null`, `[]`, `{}`, `"x"`, `1`, `{"order":[]}`, `{"order":{}}`, `{"a":`, `{`, `{"order":{"amount":1}`,
}

func TestDecodeFastPathAgreesWithTheCarefulWay(t *testing.T) {
	for _, body := range decodeBodies {
		fastAgrees(t, []byte(body))
	}
}

// TestDecodeFastPathTakesOrdinaryBodies: the walk says yes to a page's body, so the fast path is the usual one.
func TestDecodeFastPathTakesOrdinaryBodies(t *testing.T) {
	for _, body := range decodeBodies[:5] {
		if !plainMembers([]byte(body), requestShape()) {
			t.Errorf("plainMembers refused an ordinary body: %s", body)
		}
	}
	for _, body := range decodeBodies[5:9] {
		if plainMembers([]byte(body), requestShape()) {
			t.Errorf("plainMembers took an ambiguous body: %s", body)
		}
	}
}

func FuzzDecodeFastPathAgrees(f *testing.F) {
	for _, b := range decodeBodies {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > MaxRequestBytes || len(bytes.TrimSpace(body)) == 0 {
			return
		}
		fastAgrees(t, body)
	})
}

func fastAgrees(t *testing.T, body []byte) {
	t.Helper()
	got, gotErr := DecodeRefundInstructionRequest(body)
	want, wantErr := decodeStrict(body)
	if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(gotErr, wantErr) {
		t.Fatalf("%q: fast path gave %+v, %v; careful way %+v, %v", body, got, gotErr, want, wantErr)
	}
}

func BenchmarkDecodeRefundInstructionRequest(b *testing.B) {
	body := []byte(decodeBodies[1])
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeRefundInstructionRequest(body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeStrict(b *testing.B) {
	body := []byte(decodeBodies[1])
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeStrict(body); err != nil {
			b.Fatal(err)
		}
	}
}
