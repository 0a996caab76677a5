//! AWS ALB's signed user claims (`x-amzn-oidc-data`). Every ALB of a region signs with the
//! same regional keys, so a valid signature only proves that *some* ALB signed: the token's
//! `signer` header field, the ARN of the ALB that signed it, must name one of ours. The
//! public key of each `kid` is a PEM file at the region's endpoint
//! (`https://public-keys.auth.elb.REGION.amazonaws.com/KID`), as AWS documents.

/// One ALB whose tokens are believed, and where its region's public keys are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlbSigner {
    /// The load balancer's ARN, compared exactly with the token's `signer`.
    pub arn: String,
    /// The base URL of its region's key endpoint (the key id is appended).
    pub keys_url: String,
}

impl AlbSigner {
    /// The signer for `arn`, its keys at `keys_url` or, by default, at its region's endpoint.
    pub fn new(arn: &str, keys_url: Option<&str>) -> Result<Self, String> {
        let arn = arn.trim();
        let region = region_of(arn)?;
        let keys_url = match keys_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None if partition_of(arn) == "aws" => {
                format!("https://public-keys.auth.elb.{region}.amazonaws.com")
            }
            None => {
                return Err(format!(
                    "--jwt-alb-arn {arn}: for the {} partition, give the region's ALB key endpoint with --jwt-alb-keys-url",
                    partition_of(arn)
                ));
            }
        };
        Ok(Self {
            arn: arn.to_owned(),
            keys_url,
        })
    }

    /// Where the public key named `kid` is; `None` for a key id that is not one AWS gives
    /// (it goes into a URL path, so only letters, digits and dashes pass).
    pub fn key_url(&self, kid: &str) -> Option<String> {
        let plain = !kid.is_empty()
            && kid.len() <= MAX_KID_LEN
            && kid.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        plain.then(|| format!("{}/{kid}", self.keys_url))
    }
}

/// AWS's key ids are UUIDs; anything much longer is not one.
const MAX_KID_LEN: usize = 64;

/// `arn:PARTITION:elasticloadbalancing:REGION:ACCOUNT:loadbalancer/app/NAME/ID` → REGION.
fn region_of(arn: &str) -> Result<&str, String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let well_formed = parts.len() == 6
        && parts[0] == "arn"
        && parts[2] == "elasticloadbalancing"
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && parts[5].starts_with("loadbalancer/app/")
        && !parts[3].is_empty()
        && parts[3]
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if well_formed {
        Ok(parts[3])
    } else {
        Err(format!(
            "--jwt-alb-arn {arn:?} is not an Application Load Balancer ARN (arn:aws:elasticloadbalancing:REGION:ACCOUNT:loadbalancer/app/NAME/ID)"
        ))
    }
}

fn partition_of(arn: &str) -> &str {
    arn.split(':').nth(1).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/dkim/50dc6c495c0c9188";

    #[test]
    fn the_key_endpoint_is_the_signers_region() {
        let signer = AlbSigner::new(ARN, None).unwrap();
        assert_eq!(
            signer
                .key_url("1b1a8ad2-7c2b-4c1a-9a43-2c5e0b1f0d6e")
                .as_deref(),
            Some(
                "https://public-keys.auth.elb.eu-west-1.amazonaws.com/1b1a8ad2-7c2b-4c1a-9a43-2c5e0b1f0d6e"
            )
        );
        let moved = AlbSigner::new(ARN, Some("http://127.0.0.1:9000/keys/")).unwrap();
        assert_eq!(
            moved.key_url("k1").as_deref(),
            Some("http://127.0.0.1:9000/keys/k1")
        );
    }

    #[test]
    fn a_key_id_that_would_change_the_url_is_refused() {
        let signer = AlbSigner::new(ARN, None).unwrap();
        for kid in [
            "",
            "../x",
            "a/b",
            "a?b",
            "a#b",
            "a%2f",
            "a b",
            &"a".repeat(65),
        ] {
            assert_eq!(signer.key_url(kid), None, "{kid:?}");
        }
    }

    #[test]
    fn only_alb_arns_are_taken() {
        for arn in [
            "",
            "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/net/nlb/1",
            "arn:aws:iam::123456789012:role/x",
            "arn:aws:elasticloadbalancing:EU/../x:123456789012:loadbalancer/app/a/b",
            "arn:aws:elasticloadbalancing:eu-west-1:1234:loadbalancer/app/a/b",
        ] {
            assert!(AlbSigner::new(arn, None).is_err(), "{arn}");
        }
        let gov =
            "arn:aws-us-gov:elasticloadbalancing:us-gov-west-1:123456789012:loadbalancer/app/a/b";
        assert!(
            AlbSigner::new(gov, None)
                .unwrap_err()
                .contains("--jwt-alb-keys-url")
        );
        assert!(AlbSigner::new(gov, Some("https://keys.example")).is_ok());
    }
}
