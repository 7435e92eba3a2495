/* A chat through the pocket C API: two text turns, then (given the model's projector) a turn
 * with an image made in memory. Usage: simple_chat MODEL.gguf [MMPROJ.gguf]
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

/* A 96x48 24-bit BMP (a colour gradient), written into `out` (54 + 96*48*3 bytes). */
static size_t make_bmp(unsigned char* out) {
  const int w = 96, h = 48, row = w * 3;
  const unsigned size = 54u + (unsigned)(row * h);
  memset(out, 0, 54);
  out[0] = 'B', out[1] = 'M';
  for (int i = 0; i < 4; ++i) out[2 + i] = (unsigned char)(size >> (8 * i));
  out[10] = 54, out[14] = 40, out[18] = (unsigned char)w, out[22] = (unsigned char)h, out[26] = 1, out[28] = 24;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      unsigned char* p = out + 54 + y * row + x * 3;
      p[0] = (unsigned char)(x * 2), p[1] = (unsigned char)(y * 5), p[2] = 200;
    }
  return size;
}

int main(int argc, char** argv) {
  if (argc != 2 && argc != 3) {
    fprintf(stderr, "usage: %s MODEL [MMPROJ]\n", argv[0]);
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
  if (argc == 2) {
    /* Without a projector, images are refused with a message. */
    if (pocket_session_add_image(session, "cat.jpg") != POCKET_ERROR_UNSUPPORTED || strlen(pocket_last_error()) == 0) {
      return 1;
    }
  } else {
    static unsigned char bmp[54 + 96 * 48 * 3];
    const size_t size = make_bmp(bmp);
    size_t chars = 0;
    pocket_stats stats;
    if (pocket_model_load_mmproj(model, argv[2]) != POCKET_OK) {
      fprintf(stderr, "error: %s\n", pocket_last_error());
      return 1;
    }
    /* Corrupt image bytes are an error, and the turn is left as it was. */
    if (pocket_session_add_image_data(session, "not an image", 12) != POCKET_ERROR_INVALID_ARGUMENT) return 1;
    printf("expected error: %s\n> [image] What is in this picture?\n", pocket_last_error());
    if (pocket_session_add_image_data(session, bmp, size) != POCKET_OK ||
        pocket_session_add_text(session, "What is in this picture?") != POCKET_OK ||
        pocket_session_generate(session, &params, print_text, &chars) != POCKET_OK) {
      fprintf(stderr, "error: %s\n", pocket_last_error());
      return 1;
    }
    pocket_session_stats(session, &stats);
    printf("\n[%lld prompt tokens, %lld computed]\n", (long long)stats.prompt_tokens, (long long)stats.prefilled_tokens);
    if (stats.prefilled_tokens < 10) return 1; /* the image's soft tokens were computed */
  }
  pocket_session_free(session);
  pocket_model_free(model);
  if (pocket_model_load("/nonexistent/model.gguf", &model) == POCKET_OK || model != NULL) return 1;
  printf("expected error: %s\n", pocket_last_error());
  return 0;
}
