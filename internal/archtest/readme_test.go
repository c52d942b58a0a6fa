package archtest

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestReadme keeps README.md's map true: every package under internal/ has its line in the
// layout, and the README points to nothing outside the repository.
func TestReadme(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatalf("read README.md: %v", err)
	}
	readme := string(b)

	t.Run("the layout lists every package under internal/", func(t *testing.T) {
		start := strings.Index(readme, "## Layout")
		if start < 0 {
			t.Fatal("no ## Layout section")
		}
		layout := readme[start:]
		if end := strings.Index(layout[1:], "\n## "); end >= 0 {
			layout = layout[:end+1]
		}
		internal := filepath.Join(root, "internal")
		err := filepath.WalkDir(internal, func(path string, d fs.DirEntry, err error) error {
			if err != nil || !d.IsDir() || path == internal {
				return err
			}
			gofiles, _ := filepath.Glob(filepath.Join(path, "*.go"))
			if len(gofiles) == 0 {
				return nil
			}
			rel, _ := filepath.Rel(internal, path)
			rel = filepath.ToSlash(rel)
			if !regexp.MustCompile(`(?m)^\s+` + regexp.QuoteMeta(rel) + `/ `).MatchString(layout) {
				t.Errorf("README.md's layout has no line for internal/%s/", rel)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})

	t.Run("it points to nothing outside the repository", func(t *testing.T) {
		if m := regexp.MustCompile("`?\\.\\./[^\\s`)]*").FindAllString(readme, -1); len(m) > 0 {
			t.Errorf("README.md points outside the repository: %q", m)
		}
	})
}
