package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"ccgtracker/internal/dates"
)

// EntityType is a kind of thing the log records changes to.
type EntityType struct{ Code, Name string }

// EntityTypes are the kinds of thing, in the order the log's filter offers
// them, named as people call them.
var EntityTypes = []EntityType{
	{"return", "Monthly return"},
	{"order", "Call-off order"},
	{"service_instance", "Service"},
	{"agreement", "Continuity agreement"},
	{"procurement", "Procurement"},
	{"user", "User"},
	{"ccg", "CCG"},
	{"practice", "Practice"},
	{"period", "Month of returns"},
	{"billing_month", "Billing month"},
}

// EntityName is a kind of thing in words.
func EntityName(code string) string {
	for _, t := range EntityTypes {
		if t.Code == code {
			return t.Name
		}
	}
	return humanise(code)
}

// actions names what an entry did, in words.
var actions = map[string]string{
	"user.create": "User created", "user.update": "User changed", "user.deactivate": "User deactivated",
	"user.reactivate": "User reactivated", "user.password_link": "Set-password link created",
	"user.set_password": "Password set",
	"return.submit":     "Return submitted", "return.return": "Return sent back to the CCG",
	"return.accept": "Return accepted", "return.add_line": "Change added to a return",
	"return.delete_line": "Change removed from a return", "returns.issue": "Returns issued",
	"service.change": "Service changed", "ccg.due_day": "Due day changed", "billing.close": "Billing month closed",
	"order.create": "Order created", "order.update": "Order details changed", "order.add_item": "Item added to an order",
	"order.remove_item": "Item removed from an order", "order.set_funding": "Funding set",
	"order.set_recipients": "Practices of an item set", "order.complete": "Order completed",
	"order.amend": "Amendment started", "order.terminate": "Order terminated",
	"agreement.create": "Continuity agreement created", "agreement.add_service": "Service added to an agreement",
	"agreement.add_services": "Services added to an agreement", "agreement.cancel_practice": "Practice cancelled from an agreement",
	"procurement.create": "Procurement started",
}

// ActionName is what an entry did, in words.
func ActionName(action string) string {
	if n, ok := actions[action]; ok {
		return n
	}
	return humanise(strings.ReplaceAll(action, ".", " "))
}

// fields names the recorded fields in words; others are read from their
// key (new_service is "New service").
var fields = map[string]string{
	"ccg": "CCG", "ccg_code": "CCG", "supplier_id": "Supplier", "practice_code": "Practice", "nil_return": "Nil return", "m2": "Verified (M2)", "actual_m1": "Went live (actual M1)",
	"cessation": "Cessation date", "services_changed": "Services changed", "days_late": "Days late",
	"expires_at": "Link expires", "due_day": "Due day", "ods_code": "ODS code", "call_off_id": "Call-off ID",
}

func humanise(key string) string {
	if n, ok := fields[key]; ok {
		return n
	}
	s := strings.ReplaceAll(key, "_", " ")
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// Change is one field of an entry, before and after, in words.
type Change struct {
	Field, Before, After string
}

// Changes lists an entry's fields, each with its value before and after
// the change in words ("" where that side has none): every field of
// either side, those that changed first, then in the order of their names.
// A field whose value did not change is listed too, as context (the
// user's email, say), marked by Before == After.
func (e Entry) Changes() []Change {
	before, after := object(e.Before), object(e.After)
	keys := map[string]bool{}
	for k := range before {
		keys[k] = true
	}
	for k := range after {
		keys[k] = true
	}
	var out []Change
	for k := range keys {
		out = append(out, Change{Field: humanise(k), Before: words(before[k]), After: words(after[k])})
	}
	sort.Slice(out, func(i, j int) bool {
		ci, cj := out[i].Before != out[i].After, out[j].Before != out[j].After
		if ci != cj {
			return ci
		}
		return out[i].Field < out[j].Field
	})
	return out
}

// object reads one side of an entry: an object's fields, or a lone value
// under "Value".
func object(raw json.RawMessage) map[string]json.RawMessage {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err == nil {
		return m
	}
	return map[string]json.RawMessage{"value": raw}
}

// words is one JSON value as a person reads it: yes/no, a date as
// 1 April 2026, a list joined with commas, an object as "field: value".
func words(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return string(raw)
	}
	return valueWords(v)
}

func valueWords(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case bool:
		if x {
			return "Yes"
		}
		return "No"
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case string:
		if t, err := time.Parse(time.DateOnly, x); err == nil {
			return t.Format("2 January 2006")
		}
		if t, err := time.Parse(time.RFC3339Nano, x); err == nil {
			return t.In(dates.London).Format("2 January 2006 15:04")
		}
		return x
	case []any:
		parts := make([]string, 0, len(x))
		for _, it := range x {
			parts = append(parts, valueWords(it))
		}
		return strings.Join(parts, ", ")
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			if w := valueWords(x[k]); w != "" {
				parts = append(parts, fmt.Sprintf("%s: %s", humanise(k), w))
			}
		}
		return strings.Join(parts, "; ")
	}
	return fmt.Sprint(v)
}
