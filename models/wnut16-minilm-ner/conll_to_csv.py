"""Convert a CoNLL file (one `token<TAB>tag` line per token, a blank line between sentences) into
the CSV layout reporter reads for token classification: one sentence per row, its tokens and its
IOB2 tags each separated by single spaces.

    python conll_to_csv.py wnut16/data/train train.csv
"""

import csv
import sys


def sentences(path):
    tokens, tags = [], []
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            fields = line.split()
            if fields:
                tokens.append(fields[0])
                tags.append(fields[-1])
            elif tokens:
                yield tokens, tags
                tokens, tags = [], []
    if tokens:
        yield tokens, tags


def main(source, target):
    with open(target, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["tokens", "tags"])
        for tokens, tags in sentences(source):
            writer.writerow([" ".join(tokens), " ".join(tags)])


if __name__ == "__main__":
    main(*sys.argv[1:3])
