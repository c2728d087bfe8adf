package server

import (
	"errors"
	"net/http"
	"net/url"
	"testing"

	"ccgtracker/internal/apperr"
)

// TestFormCheck: check is the one merge of what a form could not read with
// the domain's verdict, so each way the two can meet is a case.
func TestFormCheck(t *testing.T) {
	t.Parallel()
	read := func(values url.Values) *form { return &form{values: values, problems: map[string]string{}} }
	fields := func(t *testing.T, err error) map[string]string {
		t.Helper()
		var e *apperr.Error
		if !errors.As(err, &e) || e.Code != apperr.Invalid {
			t.Fatalf("got %v, want an input error", err)
		}
		return e.Fields
	}

	t.Run("nothing unread leaves the domain's verdict as it is", func(t *testing.T) {
		domain := apperr.Invalidf("name", "Enter a name")
		if got := read(url.Values{}).check(domain); got != domain {
			t.Errorf("got %v", got)
		}
		if got := read(url.Values{}).check(nil); got != nil {
			t.Errorf("nil became %v", got)
		}
	})
	t.Run("the form's word wins on its field, the domain's stay on the others", func(t *testing.T) {
		f := read(url.Values{"start-day": {"31"}, "start-month": {"2"}, "start-year": {"2027"}})
		f.date("start", "start", "Start date")
		got := fields(t, f.check(&apperr.Error{Code: apperr.Invalid, Message: "Enter the start date",
			Fields: map[string]string{"start": "Enter the start date", "item": "Select an item"}}))
		if got["start"] == "Enter the start date" || got["start"] == "" || got["item"] != "Select an item" {
			t.Errorf("fields: %v", got)
		}
	})
	t.Run("the summary does not repeat the domain's word on a field the form put right", func(t *testing.T) {
		f := read(url.Values{"count": {"twelve"}})
		f.whole("count", "count", "Count")
		err := f.check(apperr.Invalidf("count", "Enter the count"))
		if msg := apperr.MessageOf(err); msg != "Count must be a whole number, like 12" {
			t.Errorf("summary %q", msg)
		}
	})
	t.Run("problems alone, with no domain verdict", func(t *testing.T) {
		f := read(url.Values{"count": {""}})
		f.whole("count", "count", "Count")
		if got := fields(t, f.check(nil)); got["count"] != "Enter the count" {
			t.Errorf("fields: %v", got)
		}
	})
	t.Run("a conflict or a failure is returned as it is", func(t *testing.T) {
		f := read(url.Values{"count": {"x"}})
		f.whole("count", "count", "Count")
		stale := apperr.New(apperr.Conflict, "The return has changed")
		if got := f.check(stale); got != stale {
			t.Errorf("conflict became %v", got)
		}
		broken := errors.New("connection reset")
		if got := f.check(broken); got != broken {
			t.Errorf("failure became %v", got)
		}
	})
	t.Run("a refusal's status: 409 for a stale version, 400 otherwise", func(t *testing.T) {
		if s := refusedStatus(apperr.New(apperr.Conflict, "changed")); s != http.StatusConflict {
			t.Errorf("conflict: %d", s)
		}
		if s := refusedStatus(apperr.Invalidf("x", "bad")); s != http.StatusBadRequest {
			t.Errorf("invalid: %d", s)
		}
	})
}
