/* Floats: VFP on Cortex-M4F (literal pools of constants), libgcc soft-float elsewhere. */
extern float fw_scale(float);
extern double fw_sqrt(double);
static const float coeffs[] = {0.1f, 0.2f, 0.3f, 0.4f};
float lerp(float a, float b, float t) { return a + (b - a) * t; }
float poly(float x) { return 1.5f * x * x + 0.25f * x - 3.0f; }
float dot(const float *v)
{
    float s = 0;
    for (int i = 0; i < 4; i++)
        s += v[i] * coeffs[i];
    return fw_scale(s);
}
double dbl(double x) { return fw_sqrt(x) * 2.0 + x / 3.0; }
int to_int(float f) { return (int)(f * 100.0f); }
float (*const float_ops[])(float) = {poly, fw_scale};
