package graph

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"

	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
)

// paramsFromMultipart reads a file upload: a multipart/form-data POST as the GraphQL multipart
// request spec (https://github.com/jaydenseric/graphql-multipart-request-spec) has it, the way
// Apollo's upload client and `curl -F` send it. Its parts come in order: `operations` (the
// request as JSON, with null where each file goes), `map` (a JSON object from each file
// part's name to the variable paths it fills, e.g. {"0": ["variables.input.file"]}), then the
// files. A file is read whole into memory: the body's limit (MAX_UPLOAD_BYTES, in
// internal/httpapi) bounds it, and over it the request is 413 REQUEST_TOO_LARGE. Anything
// else amiss (a part missing or out of order, a map that is not an object of path lists, a
// path that does not lead to a null variable, a file named in the map but not sent, a batch)
// is 400 BAD_REQUEST, saying what.
//
// Only a signed-in viewer may upload: an anonymous request is 401 UNAUTHENTICATED before any
// part is read, so that nobody unknown can make the server hold MAX_UPLOAD_BYTES in memory.
func paramsFromMultipart(r *http.Request) (*graphql.RawParams, *requestError) {
	if _, ok := auth.ViewerFrom(r.Context()); !ok {
		return nil, &requestError{status: http.StatusUnauthorized, code: apperr.Unauthenticated,
			message: "File uploads need a signed-in viewer (a bearer token or the session cookie)."}
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, invalid("The multipart request is malformed: " + err.Error() + ".")
	}
	operations, reqErr := formField(mr, "operations")
	if reqErr != nil {
		return nil, reqErr
	}
	p, reqErr := paramsFromJSON(operations)
	if reqErr != nil {
		return nil, reqErr
	}
	mapField, reqErr := formField(mr, "map")
	if reqErr != nil {
		return nil, reqErr
	}
	var fileMap map[string][]string
	if err := json.Unmarshal(mapField, &fileMap); err != nil || fileMap == nil {
		return nil, invalid("The multipart request's map must be a JSON object whose values are arrays of paths, e.g. {\"0\": [\"variables.input.file\"]}.")
	}
	for key, paths := range fileMap {
		if len(paths) == 0 {
			return nil, invalid("The map's entry " + strconv.Quote(key) + " names no path.")
		}
		for _, path := range paths {
			if err := checkUploadPath(p, path); err != nil {
				return nil, err
			}
		}
	}
	seen := map[string]bool{}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, partError(err)
		}
		key := part.FormName()
		paths, ok := fileMap[key]
		if !ok || seen[key] {
			_ = part.Close()
			if seen[key] {
				return nil, invalid("The file " + strconv.Quote(key) + " is sent twice.")
			}
			return nil, invalid("The part " + strconv.Quote(key) + " is not in the map.")
		}
		seen[key] = true
		content, err := io.ReadAll(part)
		if err != nil {
			return nil, partError(err)
		}
		upload := graphql.Upload{Filename: part.FileName(), Size: int64(len(content)), ContentType: part.Header.Get("Content-Type")}
		for _, path := range paths {
			// Each path gets its own reader: one file may fill several variables.
			upload.File = bytes.NewReader(content)
			if err := setUpload(p, path, upload); err != nil {
				return nil, err
			}
		}
	}
	for key := range fileMap {
		if !seen[key] {
			return nil, invalid("The file " + strconv.Quote(key) + " named in the map is missing from the request.")
		}
	}
	return p, nil
}

// formField reads the next part, which must be the form field name (operations, then map).
func formField(mr *multipart.Reader, name string) ([]byte, *requestError) {
	part, err := mr.NextPart()
	if errors.Is(err, io.EOF) {
		return nil, invalid("The multipart request has no " + name + " field.")
	}
	if err != nil {
		return nil, partError(err)
	}
	defer part.Close()
	if part.FormName() != name {
		return nil, invalid("The multipart request's fields must come in order: operations, map, then the files; expected " +
			name + ", found " + strconv.Quote(part.FormName()) + ".")
	}
	b, err := io.ReadAll(part)
	if err != nil {
		return nil, partError(err)
	}
	return b, nil
}

// partError is 413 over the body limit, and 400 for a malformed multipart body.
func partError(err error) *requestError {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return readError(err)
	}
	return invalid("The multipart request is malformed: " + err.Error() + ".")
}

// checkUploadPath: a path of the map leads, through the operation's variables, to null.
func checkUploadPath(p *graphql.RawParams, path string) *requestError {
	_, _, err := uploadSlot(p, path)
	return err
}

func setUpload(p *graphql.RawParams, path string, u graphql.Upload) *requestError {
	set, _, err := uploadSlot(p, path)
	if err != nil {
		return err
	}
	set(u)
	return nil
}

// uploadSlot finds the place path ("variables.input.file", "variables.files.0") names and
// returns a function that fills it; the place must hold null (or, once filled, an Upload).
func uploadSlot(p *graphql.RawParams, path string) (func(any), any, *requestError) {
	bad := func(why string) (func(any), any, *requestError) {
		return nil, nil, invalid("The map's path " + strconv.Quote(path) + " " + why + ".")
	}
	keys := strings.Split(path, ".")
	if len(keys) < 2 || keys[0] != "variables" {
		return bad("must start with \"variables.\"")
	}
	var container any = p.Variables
	if p.Variables == nil {
		return bad("names a variable the operation does not have")
	}
	for i, key := range keys[1:] {
		last := i == len(keys)-2
		switch c := container.(type) {
		case map[string]any:
			v, ok := c[key]
			if !ok {
				return bad("does not lead to a variable (" + strconv.Quote(key) + " is missing)")
			}
			if last {
				if _, isUpload := v.(graphql.Upload); v != nil && !isUpload {
					return bad("must lead to null")
				}
				return func(u any) { c[key] = u }, v, nil
			}
			container = v
		case []any:
			n, err := strconv.Atoi(key)
			if err != nil || n < 0 || n >= len(c) {
				return bad("has an index out of range (" + strconv.Quote(key) + ")")
			}
			if last {
				if _, isUpload := c[n].(graphql.Upload); c[n] != nil && !isUpload {
					return bad("must lead to null")
				}
				return func(u any) { c[n] = u }, c[n], nil
			}
			container = c[n]
		default:
			return bad("goes through a value that is neither an object nor a list")
		}
	}
	return bad("is empty")
}
