package server

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"ccgtracker/internal/apperr"
	"ccgtracker/internal/auth"
	"ccgtracker/internal/dates"
	"ccgtracker/internal/ledger"
	"ccgtracker/internal/links"
	"ccgtracker/internal/tracker"
	"ccgtracker/web/views"
)

// A monthly return's pieces that its pages share: who may do what, how a
// return is read from the URL, shown in a list and at the head of its
// pages, and how a refused action is shown again. Each journey has its
// own file: return_page.go (the return and its services), return_changes.go
// and return_pending.go (adding and removing changes, confirming requested
// ones), return_lines.go (the line forms), return_submit.go,
// return_workbook.go (download and upload), return_history.go (a CCG's
// returns and a return's versions), return_list.go and returns_review.go
// (the reviewer's).

// Who may do what with monthly returns (DOMAIN.md §1, §6): buyers fill in
// and submit their own CCG's; reviewers return or accept any; everyone
// else reads. Scope does the rest: a buyer sees only their CCG's returns.
var (
	returnReaders   = only(auth.Buyer, auth.Reviewer, auth.Finance, auth.Admin)
	returnWriters   = only(auth.Buyer)
	returnOverseers = only(auth.Reviewer, auth.Finance, auth.Admin)
	returnReviewers = only(auth.Reviewer)
)

// correctsName is the date a correction corrects, in words.
func correctsName(c string) string { return tracker.CorrectsName(c) }

func returnHref(ret tracker.Return) string {
	return links.Return(ret.CCGCode, ret.Period.String())
}

// loadReturn reads the return the URL names, in the user's scope: another
// CCG's return is not found, exactly as a missing one.
func (s *Server) loadReturn(r *http.Request) (tracker.Return, error) {
	p, ok := tracker.ParsePeriod(chi.URLParam(r, "period"))
	if !ok {
		return tracker.Return{}, errNotFound
	}
	return tracker.Get(r.Context(), s.pool, currentUser(r).Scope(), strings.ToUpper(chi.URLParam(r, "code")), p)
}

// returnTiming says how the return stands against its due date: days left
// while open, days late once past it (and for good once submitted late).
func returnTiming(ret tracker.Return, now time.Time) (string, bool) {
	if late := ret.DaysLate(now); late > 0 {
		return fmt.Sprintf("%d %s late", late, plural(late, "day")), true
	}
	if ret.SubmittedAt != nil {
		return "On time", false
	}
	switch left := int(ret.DueDate.Sub(dates.Today(now)).Hours() / 24); left {
	case 0:
		return "Due today", false
	default:
		return fmt.Sprintf("%d %s left", left, plural(left, "day")), false
	}
}

func submittedAt(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.In(dates.London).Format("2 January 2006 15:04")
}

func returnRow(ret tracker.Return, now time.Time) views.ReturnRow {
	timing, late := returnTiming(ret, now)
	return views.ReturnRow{
		Href: returnHref(ret), CCGCode: ret.CCGCode, CCGName: ret.CCGName, Region: ret.RegionName,
		Period: ret.Period.String(), PeriodName: ret.Period.Name(), PeriodEnd: dates.Long(ret.Period.Last()),
		Status: ret.Status.Name(), StatusTone: returnTone(ret.Status),
		DueDate: dates.Long(ret.DueDate), Submitted: submittedAt(ret.SubmittedAt),
		Timing: timing, Late: late, Submissions: ret.Submissions,
	}
}

// lineRow is a change line as the pages show it; names holds the item
// names of services the line's own query does not (a migration's new one).
func lineRow(l tracker.Line, n int, names map[int64]string) views.LineView {
	v := views.LineView{
		ID: l.ID, Number: n, Kind: string(l.Kind), KindName: l.Kind.Name(),
		Practice: l.PracticeName + " (" + l.PracticeCode + ")", Date: dates.Long(l.Date), Note: l.Note,
		ReviewerComment: l.ReviewerComment, Requested: l.Requested, Carried: l.CarriedFrom != nil,
		Targets: strings.Join(l.Targets, ", "),
	}
	if l.InstanceRef != "" {
		v.Service = l.InstanceRef + " (" + l.ItemName + ")"
	}
	if l.NewInstanceRef != "" {
		v.NewService = l.NewInstanceRef
		if l.NewInstanceID != nil && names[*l.NewInstanceID] != "" {
			v.NewService += " (" + names[*l.NewInstanceID] + ")"
		}
	}
	if l.Corrects != "" {
		v.Corrects = correctsName(l.Corrects)
	}
	return v
}

// newServiceNames looks up the item names of the lines' new services.
func (s *Server) newServiceNames(r *http.Request, lines []tracker.Line) (map[int64]string, error) {
	var ids []int64
	for _, l := range lines {
		if l.NewInstanceID != nil {
			ids = append(ids, *l.NewInstanceID)
		}
	}
	names := map[int64]string{}
	if len(ids) == 0 {
		return names, nil
	}
	found, err := ledger.ByIDs(r.Context(), s.pool, ids)
	if err != nil {
		return nil, err
	}
	for id, i := range found {
		names[id] = i.ItemName
	}
	return names, nil
}

// returnView fills what every page of a return shows.
func (s *Server) returnView(r *http.Request, ret tracker.Return) (views.ReturnView, error) {
	u := currentUser(r)
	v := views.ReturnView{
		AuditID:   ret.AuditID(),
		ReturnRow: returnRow(ret, s.now()), Version: ret.Version, NilReturn: ret.NilReturn,
		ReviewComment: ret.ReviewComment, ReviewedBy: ret.ReviewedBy,
		CanEdit:    u.Role == auth.Buyer && ret.Editable,
		CanReview:  u.Role == auth.Reviewer && ret.Status == tracker.Submitted,
		IsReviewer: u.Role == auth.Reviewer,
		// A return sent back keeps the reviewer's word in view until the
		// CCG submits it again.
		ShowReview: ret.ReviewedAt != nil && (ret.Status == tracker.Returned || ret.Status == tracker.Draft),
	}
	if ret.ReviewedAt != nil {
		v.ReviewedAt = dates.Long(dates.Today(*ret.ReviewedAt))
	}
	if !ret.Period.Ended(s.now()) {
		v.SubmitFrom = dates.Long(ret.Period.SubmittableFrom())
	}
	names, err := s.newServiceNames(r, ret.Lines)
	if err != nil {
		return v, err
	}
	for i, l := range ret.Lines {
		v.Lines = append(v.Lines, lineRow(l, i+1, names))
	}
	return v, nil
}

// returnCrumbs lead from a return's pages back to the CCG's returns.
func returnCrumbs(u *auth.User, ret tracker.Return, more ...views.Link) []views.Link {
	crumbs := []views.Link{{Label: "Dashboard", Href: "/"}}
	if u.Role != auth.Buyer {
		crumbs = append(crumbs, views.Link{Label: "Monthly returns", Href: "/returns?period=" + ret.Period.String()})
	}
	crumbs = append(crumbs, views.Link{Label: ret.CCGName, Href: "/ccgs/" + ret.CCGCode},
		views.Link{Label: "Returns of " + ret.CCGName, Href: "/ccgs/" + ret.CCGCode + "/returns"})
	return append(crumbs, more...)
}

func (s *Server) returnPage(r *http.Request, ret tracker.Return, title string, more ...views.Link) views.Page {
	return s.page(r, title+", "+ret.CCGName, returnCrumbs(currentUser(r), ret, more...)...)
}

// refusal is how a refused action on a return is shown again: the
// domain's problems (with what the form could not read, merged by check)
// beside their fields, 400; a refusal of the whole action at the top of
// the page, against the return's status, 400, or 409 when the return
// changed meanwhile. What the person typed is kept, and the page carries
// the current version, so they can check and send it again. ok is false
// for any other error, which the handler returns.
func refusal(err error, f *form, fields ...string) (views.Form, int, bool) {
	err = f.check(err)
	var e *apperr.Error
	if !errors.As(err, &e) || (e.Code != apperr.Invalid && e.Code != apperr.Conflict) {
		return views.Form{}, 0, false
	}
	if e.Code == apperr.Invalid && len(e.Fields) > 0 {
		out, _ := formOf(err, f.values, fields...)
		return out, http.StatusBadRequest, true
	}
	out := views.Form{Values: formValues(f.values), Errors: []views.FieldError{{Field: views.ReturnStatusID, Message: e.Message}}}
	return out, refusedStatus(err), true
}

// returnShownAgain is the return's page as the return is now, with a
// refused form.
func (s *Server) returnShownAgain(w http.ResponseWriter, r *http.Request, status int, f views.Form) error {
	ret, err := s.loadReturn(r)
	if err != nil {
		return err
	}
	return s.renderReturn(w, r, ret, status, f, nil)
}
