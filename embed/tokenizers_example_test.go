package embed_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/imagegem/imagegem-go/embed"
)

// tempFile writes content to a file in a fresh temporary folder.
func tempFile(name, content string) (string, func()) {
	dir, err := os.MkdirTemp("", "embed-example")
	if err != nil {
		log.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		log.Fatal(err)
	}
	return p, func() { os.RemoveAll(dir) }
}

func ExampleLoadWordPiece() {
	vocab := []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "un", "##aff", "##able", "cafe", ","}
	p, done := tempFile("vocab.txt", strings.Join(vocab, "\n")+"\n")
	defer done()
	bert, err := embed.LoadWordPiece(p, &embed.WordPieceOptions{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(bert.Encode("Unaffable, CAFÉ! xyz"))
	// Output: [2 4 5 6 8 7 1 1 3]
}

func ExampleLoadByteBPE() {
	v, done := tempFile("vocab.json", `{"<s>":0,"</s>":1,"h":2,"i":3,"hi":4,"\u0120":5,"\u0120hi":6}`)
	defer done()
	m, done2 := tempFile("merges.txt", "#version: 0.2\nh i\n\u0120 hi\n")
	defer done2()
	bpe, err := embed.LoadByteBPE(v, m, &embed.ByteBPEOptions{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(bpe.Encode("hi hi"))
	// Output: [0 4 6 1]
}

func ExampleLoadTokenizerJSON() {
	p, done := tempFile("tokenizer.json", `{
	  "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581", "add_prefix_space": true},
	  "post_processor": {"type": "TemplateProcessing", "single": [
	    {"SpecialToken": {"id": "<s>"}}, {"Sequence": {"id": "A"}}, {"SpecialToken": {"id": "</s>"}}]},
	  "model": {"type": "Unigram", "unk_id": 0, "vocab": [
	    ["<unk>", 0], ["<s>", 0], ["</s>", 0], ["\u2581", -2], ["\u2581a", -1], ["b", -2], ["ab", -1.5]]}
	}`)
	defer done()
	tok, err := embed.LoadTokenizerJSON(p, 0)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tok.Encode("ab"))
	// Output: [1 4 5 2]
}

func ExampleLoadCLIPTokenizerFromFolder() {
	tok, err := embed.LoadCLIPTokenizerFromFolder(tinyModel)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tok.Tokenize("a cat")[:4])
	// Output: [49406 320 2368 49407]
}
