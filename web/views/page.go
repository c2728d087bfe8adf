// Package views renders every page of the tracker as templ components, from
// view models the server fills in. It knows nothing of the database.
package views

import (
	"fmt"
	"net/url"
	"strconv"
)

// Page is what the layout needs on every page.
type Page struct {
	Title string
	User  *CurrentUser // nil when nobody is signed in
	Nav   []NavItem
	// Flash is a one-time success message after a redirect.
	Flash string
	// IdleTimeoutSeconds drives the session warning; 0 turns it off.
	IdleTimeoutSeconds int
	// IdleRemainingSeconds is what is left of it now: the server restarts
	// the idle clock at most once a minute, so a page may start with less.
	IdleRemainingSeconds int
	// Breadcrumbs lead back up from the page.
	Breadcrumbs []Link
}

// CurrentUser is the signed-in person as the header shows them.
type CurrentUser struct {
	Name     string
	RoleName string
	CCGName  string
	// CanReadAudit shows the links to an object's history in the audit log.
	CanReadAudit bool
}

// NavItem is one link of the header navigation. Current marks the
// section the page is in (one item at most); Here, that the page is the
// item's own address: nhsuk-frontend's header says aria-current="page"
// for that and aria-current="true" for a page inside the section.
type NavItem struct {
	Label   string
	Href    string
	Current bool
	Here    bool
}

// AriaCurrent is the item's aria-current value, as the design system's
// header template gives it.
func (n NavItem) AriaCurrent() string {
	if n.Here {
		return "page"
	}
	return "true"
}

// Link is a labelled address.
type Link struct {
	Label string
	Href  string
}

// FieldError is what is wrong with one form field.
type FieldError struct {
	Field   string // the input's name
	Message string
}

// Form carries what a person typed and what is wrong with it, so a refused
// form comes back filled in with the NHS error summary.
type Form struct {
	Values map[string]string
	Errors []FieldError
}

// Value returns what was typed into a field.
func (f Form) Value(field string) string { return f.Values[field] }

// Error returns the message for a field, or "".
func (f Form) Error(field string) string {
	for _, e := range f.Errors {
		if e.Field == field {
			return e.Message
		}
	}
	return ""
}

// HasErrors reports whether anything is wrong.
func (f Form) HasErrors() bool { return len(f.Errors) > 0 }

// Pager is the state of a paged list.
type Pager struct {
	Page, Pages, First, Last, Total int
	// Query holds the list's filters, kept on the page links.
	Query url.Values
	Path  string
	// Fragment, when set, is where the page links land (#services).
	Fragment string
}

// href is the link to page n with the same filters.
func (p Pager) href(n int) string {
	q := url.Values{}
	for k, v := range p.Query {
		q[k] = v
	}
	q.Set("page", strconv.Itoa(n))
	href := p.Path + "?" + q.Encode()
	if p.Fragment != "" {
		href += "#" + p.Fragment
	}
	return href
}

// PageItem is one entry of a numbered pagination: a page's link, or an
// ellipsis standing for the pages left out.
type PageItem struct {
	Number   int
	Href     string
	Current  bool
	Ellipsis bool
}

// Items are the numbered pagination's entries: the first and last pages,
// the current one and its neighbours, and an ellipsis for each gap, so
// that the list stays short however many pages there are.
func (p Pager) Items() []PageItem {
	shown := func(n int) bool { return n == 1 || n == p.Pages || (n >= p.Page-1 && n <= p.Page+1) }
	var items []PageItem
	for n := 1; n <= p.Pages; n++ {
		switch {
		case shown(n), shown(n-1) && shown(n+1):
			// A gap of one page shows that page: an ellipsis would be no shorter.
			items = append(items, PageItem{Number: n, Href: p.href(n), Current: n == p.Page})
		case shown(n - 1):
			items = append(items, PageItem{Ellipsis: true})
		}
	}
	return items
}

// Summary says which rows are shown: "Showing 1 to 20 of 106".
func (p Pager) Summary() string {
	if p.Total == 0 {
		return "No results"
	}
	return fmt.Sprintf("Showing %s to %s of %s", Number(p.First), Number(p.Last), Number(p.Total))
}

// Number prints a count with thousands separators: 60,606,345.
func Number[T ~int | ~int64](n T) string {
	s := strconv.FormatInt(int64(n), 10)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		return "-" + s
	}
	return s
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

// roleLine is the user's role, and their CCG if they have one.
func roleLine(u *CurrentUser) string {
	if u.CCGName == "" {
		return u.RoleName
	}
	return u.RoleName + ", " + u.CCGName
}

// orDash shows a missing value as a dash, read out as "none".
func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

// pluralise adds an s to word unless n is 1.
func pluralise(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// Tone is what a status tag says about the state it names, chosen by the
// server from the domain's state; the views alone turn it into
// nhsuk-frontend's tag colours.
type Tone int

const (
	ToneNeutral  Tone = iota // grey: ended, not started, nothing to do
	ToneProgress             // blue: under way, planned
	ToneStarted              // aqua green: begun but not finished
	ToneGood                 // green: done, active, sent
	ToneWarning              // orange: overdue, needs a check
	ToneNotice               // yellow: waiting on someone, incomplete
	ToneBad                  // red: failed, cancelled, late
	ToneDone                 // no colour: a finished step, read as plain text
)

// Class is the tag's modifier classes in nhsuk-frontend.
func (t Tone) Class() string {
	switch t {
	case ToneProgress:
		return "nhsuk-tag--blue"
	case ToneStarted:
		return "nhsuk-tag--aqua-green"
	case ToneGood:
		return "nhsuk-tag--green"
	case ToneWarning:
		return "nhsuk-tag--orange"
	case ToneNotice:
		return "nhsuk-tag--yellow"
	case ToneBad:
		return "nhsuk-tag--red"
	case ToneDone:
		return "nhsuk-tag--no-colour nhsuk-tag--no-border nhsuk-u-font-weight-normal"
	}
	return "nhsuk-tag--grey"
}

// ErrorView is a page that says why a request could not be answered: not
// found, not allowed, busy, or broken (with the reference to quote).
type ErrorView struct {
	Page             Page
	Heading, Message string
}

// DateInputID is the id of DateField name's first box (name-day), where a
// problem with the date is shown and the error summary links.
func DateInputID(name string) string { return name + "-day" }

// SearchQueryInput is SearchBox's input: a page's search is read by it
// (CCGQueryInput and ProcurementQueryInput are this one).
const SearchQueryInput = "q"
