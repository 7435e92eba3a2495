/* A two-turn chat through the pocket C API. Usage: simple_chat MODEL.gguf
 * Exits non-zero if anything fails, so CI runs it as a test. */
#include <pocket/pocket.h>
#include <stdio.h>
#include <string.h>

static int print_text(const char* text, size_t length, int kind, void* user_data) {
  size_t* total = (size_t*)user_data;
  *total += length;
  printf("%s%.*s", kind == 1 ? "[thinking] " : "", (int)length, text);
  fflush(stdout);
  return 1; /* keep going */
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s MODEL\n", argv[0]);
    return 2;
  }
  pocket_model* model = NULL;
  if (pocket_model_load(argv[1], &model) != POCKET_OK) {
    fprintf(stderr, "error: %s\n", pocket_last_error());
    return 1;
  }
  pocket_session_params sp;
  pocket_session_params_init(&sp);
  sp.n_ctx = 1024;
  sp.system_prompt = "You are brief.";
  pocket_session* session = NULL;
  if (pocket_session_create(model, &sp, &session) != POCKET_OK) {
    fprintf(stderr, "error: %s\n", pocket_last_error());
    return 1;
  }
  pocket_sampling_params params;
  pocket_sampling_params_init(model, &params);
  params.seed = 42;
  params.max_tokens = 16;

  const char* turns[] = {"Hello! Who are you?", "And what can you do?"};
  for (int t = 0; t < 2; ++t) {
    size_t chars = 0;
    printf("> %s\n", turns[t]);
    if (pocket_session_add_text(session, turns[t]) != POCKET_OK ||
        pocket_session_generate(session, &params, print_text, &chars) != POCKET_OK) {
      fprintf(stderr, "error: %s\n", pocket_last_error());
      return 1;
    }
    pocket_stats stats;
    pocket_session_stats(session, &stats);
    printf("\n[%lld prompt tokens, %lld computed, %lld generated, %.1f tok/s]\n", (long long)stats.prompt_tokens,
           (long long)stats.prefilled_tokens, (long long)stats.generated_tokens, stats.decode_tokens_per_second);
    if (stats.generated_tokens <= 0 || chars == 0) return 1;
    if (t == 1 && stats.prefilled_tokens >= stats.prompt_tokens) {
      fprintf(stderr, "error: the second turn prefilled the whole conversation again\n");
      return 1;
    }
  }
  if (pocket_session_add_image(session, "cat.jpg") != POCKET_ERROR_UNSUPPORTED || strlen(pocket_last_error()) == 0) {
    return 1;
  }
  pocket_session_free(session);
  pocket_model_free(model);
  if (pocket_model_load("/nonexistent/model.gguf", &model) == POCKET_OK || model != NULL) return 1;
  printf("expected error: %s\n", pocket_last_error());
  return 0;
}
