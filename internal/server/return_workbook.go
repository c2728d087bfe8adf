package server

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"ccgtracker/internal/apperr"
	"ccgtracker/internal/ledger"
	"ccgtracker/internal/tracker"
	"ccgtracker/web/views"
)

// A return as a workbook: downloaded, filled in and uploaded again.

// xlsxType is the media type of an Excel workbook.
const xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// returnDownload is the return as a workbook: the services it is about,
// the requested changes awaiting a date, and its Changes sheet.
func (s *Server) returnDownload(w http.ResponseWriter, r *http.Request) error {
	ret, err := s.loadReturn(r)
	if err != nil {
		return err
	}
	services, err := ledger.InPeriod(r.Context(), s.pool, ret.CCGCode, ret.Period.First(), ret.Period.Last())
	if err != nil {
		return err
	}
	pending, err := tracker.Pending(r.Context(), s.pool, ret.CCGCode, ret.Period)
	if err != nil {
		return err
	}
	// Built whole before anything is sent, so that a failure is an error
	// page, not half a file.
	var buf bytes.Buffer
	if err := tracker.WriteXLSX(&buf, ret, services, pending); err != nil {
		return err
	}
	w.Header().Set("Content-Type", xlsxType)
	// The name is the server's own: codes and months are letters, digits
	// and hyphens, nothing a header needs to escape.
	w.Header().Set("Content-Disposition", `attachment; filename="return-`+ret.CCGCode+`-`+ret.Period.String()+`.xlsx"`)
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.Header().Set("Cache-Control", "no-store")
	if r.Method == http.MethodHead {
		return nil
	}
	_, err = buf.WriteTo(w)
	return err
}

// uploadOverhead is what a multipart request adds to its file: the
// version field, the part headers and boundaries.
const uploadOverhead = 64 << 10

func uploadProblems(errs []tracker.RowError) []views.UploadProblem {
	sort.SliceStable(errs, func(a, b int) bool { return errs[a].Row < errs[b].Row })
	out := make([]views.UploadProblem, len(errs))
	for i, e := range errs {
		out[i] = views.UploadProblem{Column: e.Column, Message: e.Message}
		if e.Row > 0 {
			out[i].Row = strconv.Itoa(e.Row)
		}
	}
	return out
}

// returnUpload adds the changes of an uploaded file (XLSX or CSV, in the
// layout of the workbook's Changes sheet), all or none: if any row has a
// problem, of reading or of the domain's, nothing is added and every
// problem is listed by row and column.
func (s *Server) returnUpload(w http.ResponseWriter, r *http.Request) error {
	u := currentUser(r)
	r.Body = http.MaxBytesReader(w, r.Body, tracker.MaxUploadBytes+uploadOverhead)
	ret, err := s.loadReturn(r)
	if err != nil {
		return err
	}
	refuse := func(msg string) error {
		return s.renderReturn(w, r, ret, http.StatusBadRequest, views.Form{}, []views.UploadProblem{{Message: msg}})
	}
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return refuse("The file is larger than 5 MB: a return's changes fit in far less. Upload only the workbook's Changes sheet, or save it as CSV")
		}
		return refuse("The file could not be read: choose the Excel (.xlsx) or CSV file of your changes and upload it again")
	}
	defer r.MultipartForm.RemoveAll()
	file, header, err := r.FormFile(views.UploadFileInput)
	if err != nil {
		return refuse("Choose the Excel (.xlsx) or CSV file of your changes to upload")
	}
	defer file.Close()

	rows, rowErrs := tracker.ParseChangeRows(file, header.Filename)
	// The downloaded workbook carries the lines already on the return,
	// each with its ID: a row with one changes or removes that line, a row
	// without adds one.
	read := len(rows)
	changes, at, amendErrs := tracker.AmendmentOf(ret, rows)
	rowErrs = append(rowErrs, amendErrs...)
	byRow := func(probs map[int]map[string]string) {
		for i, fields := range probs {
			rowErrs = append(rowErrs, tracker.FieldRowErrors(at[i], fields)...)
		}
	}
	if len(rowErrs) > 0 {
		// The rows that could be read are checked too, saving nothing, so
		// that the buyer puts the whole file right in one go.
		if len(changes) > 0 {
			probs, err := tracker.CheckAmendment(r.Context(), s.pool, u.Scope(), ret.CCGCode, ret.Period, changes)
			if err != nil && !apperr.Is(err, apperr.Invalid) {
				return err
			}
			byRow(probs)
		}
		return s.renderReturn(w, r, ret, http.StatusBadRequest, views.Form{}, uploadProblems(rowErrs))
	}
	if len(changes) == 0 && read > 0 {
		return refuse("Every row of the file is already on the return as it is: nothing was changed")
	}
	if len(changes) == 0 {
		return refuse("The file has no changes in it: put them in the rows below the headings of the Changes sheet")
	}
	probs, err := s.tracker.Amend(r.Context(), u.Actor(), ret.CCGCode, ret.Period, version(r), changes)
	if len(probs) > 0 {
		byRow(probs)
		return s.renderReturn(w, r, ret, http.StatusBadRequest, views.Form{}, uploadProblems(rowErrs))
	}
	if form, status, ok := refusal(err, readForm(r)); ok {
		return s.returnShownAgain(w, r, status, form)
	}
	if err != nil {
		return err
	}
	added, edited, removed := 0, 0, 0
	for _, c := range changes {
		switch {
		case c.ID == 0:
			added++
		case c.Remove:
			removed++
		default:
			edited++
		}
	}
	var did []string
	if added > 0 {
		did = append(did, fmt.Sprintf("%d %s added", added, plural(added, "change")))
	}
	if edited > 0 {
		did = append(did, fmt.Sprintf("%d changed", edited))
	}
	if removed > 0 {
		did = append(did, fmt.Sprintf("%d removed", removed))
	}
	if edited == 0 && removed == 0 {
		s.flash(r.Context(), fmt.Sprintf("%d %s from %s added to the return.", added, plural(added, "change"), header.Filename))
	} else {
		s.flash(r.Context(), "From "+header.Filename+": "+strings.Join(did, ", ")+".")
	}
	return redirect(w, r, returnHref(ret))
}
