package lane

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestClaimsCheckRefund(t *testing.T) {
	c := &Claims{Lane: "front-1", Devices: []string{"1850010868", "1850010869"}, MaxAmount: 5000, Currency: "USD"}
	for _, tc := range []struct {
		name      string
		serial    string
		amount    int64
		currency  string
		capAmount int64
		wantField string // "" means in scope
		wantMsg   string
	}{
		{"in scope", "1850010868", 4999, "USD", 0, "", ""},
		{"at the token's cap", "1850010869", 5000, "USD", 0, "", ""},
		{"over the token's cap", "1850010868", 5001, "USD", 0, "order.amount", "must be at most 5000"},
		{"under a larger proxy cap", "1850010868", 5000, "USD", 9000, "", ""},
		{"over a smaller proxy cap", "1850010868", 3001, "USD", 3000, "order.amount", "must be at most 3000"},
		{"at a smaller proxy cap", "1850010868", 3000, "USD", 3000, "", ""},
		{"another device", "1850010870", 100, "USD", 0, "serialNumber", "is not a device of this lane"},
		{"another currency", "1850010868", 100, "EUR", 0, "order.currency", "must be USD"},
		{"device checked before amount", "1850010870", 999999, "EUR", 0, "serialNumber", "is not a device of this lane"},
		{"currency checked before amount", "1850010868", 999999, "EUR", 0, "order.currency", "must be USD"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := c.CheckRefund(tc.serial, tc.amount, tc.currency, tc.capAmount)
			if tc.wantField == "" {
				assert.Nil(t, err)
				return
			}
			if assert.NotNil(t, err) {
				assert.Equal(t, tc.wantField, err.Field)
				assert.Equal(t, tc.wantMsg, err.Message)
				assert.NotEmpty(t, err.Detail)
			}
		})
	}
}

func TestClaimsHasDevice(t *testing.T) {
	c := &Claims{Devices: []string{"1850010868"}}
	assert.True(t, c.HasDevice("1850010868"))
	assert.False(t, c.HasDevice("185001086"), "a prefix is not the device")
	assert.False(t, (&Claims{}).HasDevice(""), "no devices, no scope")
}
