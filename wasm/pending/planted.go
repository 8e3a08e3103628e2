package pending

// planted is a test-only switch (set through export_test.go, never in the module) that plants one known bug,
// so the page model (model_test.go) can show it finds each: "no-reattach" (a cancel's 404 stands),
// "drop-always" (a failed fresh submit drops its record whatever was sent), "forget-early" (a status in
// progress ends a record as a final one would).
var planted string
