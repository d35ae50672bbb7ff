library(testthat)
library(sbcg)

test_check("sbcg")
