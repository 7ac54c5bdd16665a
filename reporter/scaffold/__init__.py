"""`reporter init`: the files a repository needs to adopt reporter, and a starter spec written from
what a model's files and an evaluation CSV say."""
