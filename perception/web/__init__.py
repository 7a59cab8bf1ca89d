"""The web platform every phase's pages stand on: request hooks (the signed-in user, idle timeout,
security headers, template context), navigation, error pages, sign-in, the home page and the
system owner's administration."""
