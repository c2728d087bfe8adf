package server

import (
	"errors"
	"net/http"
	"strconv"

	"ccgtracker/internal/apperr"
	"ccgtracker/internal/tracker"
	"ccgtracker/web/views"
)

// The requested changes of earlier returns, confirmed with their actual
// date on this one.

// pendingConfirmation reads the confirmation of a requested change (its
// carried-from): the requested line is taken as it was accepted, with its
// actual date; the form carries nothing else to trust. id is the
// requested line's.
func (s *Server) pendingConfirmation(r *http.Request, ret tracker.Return, f *form) (lf lineForm, id int64, err error) {
	cf, _ := strconv.ParseInt(f.text(views.CarriedFromInput), 10, 64)
	pending, err := tracker.Pending(r.Context(), s.pool, ret.CCGCode, ret.Period)
	if err != nil {
		return lineForm{}, 0, err
	}
	lf = lineForm{f: f}
	for _, l := range pending {
		if l.ID == cf {
			lf.line = tracker.LineInput{Kind: l.Kind, Practice: l.PracticeCode, Instance: l.InstanceRef, NewInstance: l.NewInstanceRef,
				Targets: l.Targets, OtherCCGConfirmed: l.OtherCCGConfirmed, Corrects: l.Corrects, Note: l.Note, CarriedFrom: &l.ID,
				Date: f.date(views.PendingDateInput(l.ID), tracker.FieldDate, "Actual date")}
			return lf, l.ID, nil
		}
	}
	return lf, 0, apperr.New(apperr.Conflict, "That requested change is no longer waiting for its date: it may have been confirmed already.")
}

// confirmationShown is a refused confirmation shown again on the return's
// page: its date beside its date input, anything else wrong with it on
// its card.
func confirmationShown(f *form, err error, id int64) (views.Form, bool) {
	err = f.check(err)
	var e *apperr.Error
	if !errors.As(err, &e) || e.Code != apperr.Invalid || len(e.Fields) == 0 {
		return views.Form{}, false
	}
	out := views.Form{Values: formValues(f.values)}
	for _, field := range lineFieldOrder {
		if msg, ok := e.Fields[field]; ok {
			input := views.PendingFormID(id)
			if field == tracker.FieldDate {
				input = views.DateInputID(views.PendingDateInput(id))
			}
			out.Errors = append(out.Errors, views.FieldError{Field: input, Message: msg})
		}
	}
	return out, true
}
